"""Grid cells, coverage and routes: shapely 2 and SQLAlchemy sessions, no Flask.

- `cells`: GeoJSON import (checked first: `parse`, `topology`, `issues`) and export of cells;
- `assign`: houses into cells by point in polygon (STRtree), with a report of moves;
- `coverage` (+ `cycles`): per cell/committee figures of a collection cycle, frozen on close;
- `plausibility`: is a visit believable (scan, GPS distance, walking speed);
- `house_status`: each house's status in a cycle (visited, verified or not) for maps and lists;
- `area`: a campaign's area (cells or a drawn polygon, checked) and the houses in it;
- `route`: walking order of a cell's houses (nearest neighbour + 2-opt, then door order);
- `coords`: WGS-84 → GCJ-02 for drawing on offset tiles; `distance`, `shapes`: helpers;
- `settings`: the settings these read (callers pass `GeoSettings.from_config(app.config)`).
"""
