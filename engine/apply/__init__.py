"""apply: carry out a plan — walk the action DAG with bounded parallelism, retry, wait, lock.

The engine never prints: progress goes through an Observer the CLI implements. May import every earlier
stage; imports kubernetes lazily and only in the cluster adapter.
"""
