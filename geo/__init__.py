"""Grid cells, coverage and routes: shapely, no Flask."""
