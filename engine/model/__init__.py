"""model: translate a Policy into the desired Velero objects (pure, apart from reading credential sources).

May import engine.spec, engine.addr, engine.cron, engine.errors; never kubernetes or boto3.
"""
from engine.model.desired import MANAGED_BY, POLICY_ANNOTATION, DesiredObject, DesiredState, build_desired

__all__ = ["build_desired", "DesiredObject", "DesiredState", "MANAGED_BY", "POLICY_ANNOTATION"]
