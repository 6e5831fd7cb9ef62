"""How deep a YAML text nests, and whether it uses aliases, read from parser events before composing.

libyaml composes in C recursion, so a file nested deep enough crashes the process; parsing does not recurse.
Shared by the policy reader (engine/spec/source.py) and the state-file reader (engine/state/file.py).
"""
from __future__ import annotations

import yaml


def scan(text: str, loader_class, max_depth: int) -> tuple[yaml.Mark | None, bool]:
    """(where nesting first passes max_depth, or None; whether there are aliases)."""
    loader = None
    depth, aliases = 0, False
    try:
        loader = loader_class(text)
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > max_depth:
                    return event.start_mark, aliases
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
            elif isinstance(event, yaml.AliasEvent):
                aliases = True
    except yaml.MarkedYAMLError as exc:
        # libyaml >= 0.2.6 (PyYAML 6.0.4 wheels) stops at its own depth limit while looking ahead
        if "nesting depth" in str(exc.problem or "") and exc.problem_mark is not None:
            return exc.problem_mark, aliases
    except yaml.YAMLError:
        pass  # composing meets the same error and reports it with its position
    finally:
        if loader is not None:
            loader.dispose()
    return None, aliases
