"""Whether a chart reads at a glance: no two pieces of text in an SVG drawn over each other, and
no bar drawn flat while the value it stands for is not zero.

The runner checks every SVG a notebook shows (see `nbexec.classify`); `python svg_layout.py
FILE...` checks executed notebooks, or SVG files, after the fact. Text boxes are estimated from
the font size (no font is loaded): half an em per character wide, which is at or below the
average width of a sans-serif character, so that a reported overlap is a real one.
"""

import math
import re
import sys
import xml.etree.ElementTree as ElementTree

SVG = re.compile(r"<svg\b.*?</svg>", re.DOTALL)
ROTATE = re.compile(r"rotate\(\s*([-\d.]+)(?:[\s,]+([-\d.]+)[\s,]+([-\d.]+))?\s*\)")
CHAR_WIDTH_EM = 0.5
# How far two boxes must run into each other, in pixels, to count as drawn over each other.
TOLERANCE = 1.0


def _number(text, default=0.0):
    try:
        return float(re.sub(r"[a-z%]+$", "", text.strip()))
    except (AttributeError, ValueError):
        return default


def _shift(dy, size):
    """The baseline's offset from `y`, in pixels, for plotters' and our `dy` values."""
    if not dy:
        return 0.0
    if dy.endswith("em"):
        return _number(dy) * size
    if dy.endswith("ex"):
        return _number(dy) * size / 2
    return _number(dy)


def _rotated(box, transform):
    match = ROTATE.search(transform or "")
    if not match:
        return box
    angle = math.radians(float(match.group(1)))
    cx = float(match.group(2) or 0)
    cy = float(match.group(3) or 0)
    left, top, right, bottom = box
    points = []
    for x, y in ((left, top), (right, top), (left, bottom), (right, bottom)):
        dx, dy = x - cx, y - cy
        points.append(
            (
                cx + dx * math.cos(angle) - dy * math.sin(angle),
                cy + dx * math.sin(angle) + dy * math.cos(angle),
            )
        )
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    return (min(xs), min(ys), max(xs), max(ys))


def text_boxes(root):
    """(text, (left, top, right, bottom)) for every non-empty <text> of a parsed SVG document."""
    boxes = []

    def walk(element, inherited):
        attributes = {**inherited}
        for name in ("font-size", "text-anchor", "transform"):
            if name in element.attrib:
                attributes[name] = element.attrib[name]
        if element.tag.rsplit("}", 1)[-1] == "text":
            text = " ".join("".join(element.itertext()).split())
            if text:
                size = _number(attributes.get("font-size", "12"), 12.0)
                width = len(text) * CHAR_WIDTH_EM * size
                x = _number(element.attrib.get("x", "0"))
                baseline = _number(element.attrib.get("y", "0")) + _shift(
                    element.attrib.get("dy"), size
                )
                anchor = attributes.get("text-anchor", "start")
                left = x - {"middle": width / 2, "end": width}.get(anchor, 0.0)
                box = (left, baseline - 0.72 * size, left + width, baseline + 0.2 * size)
                boxes.append((text, _rotated(box, element.attrib.get("transform"))))
            return
        for child in element:
            walk(child, attributes)

    walk(root, {})
    return boxes


def _overlap(a, b):
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    return width > TOLERANCE and height > TOLERANCE


def flat_bars(root):
    """The values of bars drawn with no height (or width) though their value is not zero: our bar
    charts mark each bar's <rect> with the value it stands for (`data-value`)."""
    flat = []
    for element in root.iter():
        value = element.attrib.get("data-value")
        if value is None or float(value) == 0.0:
            continue
        length = min(_number(element.attrib.get("width")), _number(element.attrib.get("height")))
        if length < 1.0:
            flat.append(value)
    return flat


def problems(root, boxes):
    """What makes one parsed SVG, whose text boxes are `boxes`, hard to read: text over text, and
    flat bars."""
    found = []
    for i, (first, a) in enumerate(boxes):
        for second, b in boxes[i + 1 :]:
            if _overlap(a, b):
                found.append(f"the labels {first!r} and {second!r} are drawn over each other")
    found += [f"a bar for the value {value} is drawn flat" for value in flat_bars(root)]
    return found


def html_problems(html):
    """The problems of every SVG inside one HTML output, each with its chart's first text."""
    found = []
    for svg in SVG.findall(html):
        try:
            root = ElementTree.fromstring(svg)
        except ElementTree.ParseError as error:
            found.append(f"an SVG that does not parse ({error})")
            continue
        boxes = text_boxes(root)
        issues = problems(root, boxes)
        title = boxes[0][0] if boxes else "an untitled chart"
        found += [f"chart {title!r}: {issue}" for issue in issues]
    return found


def main(paths):
    import json

    count = 0
    for path in paths:
        with open(path, encoding="utf-8") as file:
            if path.endswith(".svg"):
                for problem in html_problems(file.read()):
                    count += 1
                    print(f"{path}: {problem}")
                continue
            notebook = json.load(file)
        for number, cell in enumerate(notebook["cells"]):
            for output in cell.get("outputs", []):
                html = output.get("data", {}).get("text/html", "")
                html = "".join(html) if isinstance(html, list) else html
                for problem in html_problems(html):
                    count += 1
                    print(f"{path} cell {number}: {problem}")
    return 1 if count else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
