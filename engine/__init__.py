"""snapplan: Velero backup policy as code.

The pipeline runs one way: spec -> model -> state -> diff -> graph -> plan -> apply, with cli on top.
"""
__version__ = "0.1.0"
