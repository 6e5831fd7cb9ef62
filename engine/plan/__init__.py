"""plan: the plan as plain data, its canonical JSON form, and the text renderer.

Nothing under plan/ imports kubernetes or boto3; it may import engine.addr and engine.errors.
"""
from engine.plan.model import Action, Change, FieldChange, Plan

__all__ = ["Action", "Change", "FieldChange", "Plan"]
