"""spec: load policy YAML with source positions, validate it (schemas/ + semantic checks), apply defaults.

Produces a frozen `Policy`. May import engine.errors only; never kubernetes or boto3.
"""
from engine.spec.load import load_policy
from engine.spec.policy import Policy

__all__ = ["load_policy", "Policy"]
