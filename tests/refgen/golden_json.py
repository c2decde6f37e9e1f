"""Writing the reference goldens: JSON with one line per prompt position, so that a diff of
a regenerated golden stays small and the file stays readable."""

import json


def dump(value, indent=0):
    """`value` as JSON text: objects and lists of objects spread over lines, anything else
    (lists of numbers, strings) on one line."""
    pad = " " * indent

    def nested(x):
        return isinstance(x, dict) or (isinstance(x, list) and x and isinstance(x[0], dict))

    if isinstance(value, dict) and any(nested(x) for x in value.values()):
        items = [f"{pad} {json.dumps(k)}: {dump(x, indent + 1)}" for k, x in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return "[\n" + ",\n".join(pad + " " + dump(x, indent + 1) for x in value) + "\n" + pad + "]"
    return json.dumps(value, ensure_ascii=False)


def write(path, doc):
    """Writes `doc` to `path` in the format of `dump`, with a final newline."""
    with open(path, "w") as f:
        f.write(dump(doc) + "\n")
