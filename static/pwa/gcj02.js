// WGS-84 → GCJ-02 (the offset datum of Amap/Tencent tiles), for drawing only, as the console
// does it (geo/coords.py: the same published algorithm and constants; tested against it).
// Stored and synced positions stay WGS-84; with MAP_TILE_CRS=gcj02 they are shifted just
// before drawing, so they sit on the right street of the offset tiles.

const A = 6378245.0;  // Krasovsky 1940 semi-major axis
const EE = 0.00669342162296594323;  // its first eccentricity squared

export const outOfChina = (lon, lat) => !(lon >= 72.004 && lon <= 137.8347 && lat >= 0.8293 && lat <= 55.8271);

function transformLat(x, y) {
  let r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
  r += (20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0 / 3.0;
  r += (20.0 * Math.sin(y * Math.PI) + 40.0 * Math.sin(y / 3.0 * Math.PI)) * 2.0 / 3.0;
  r += (160.0 * Math.sin(y / 12.0 * Math.PI) + 320 * Math.sin(y * Math.PI / 30.0)) * 2.0 / 3.0;
  return r;
}

function transformLon(x, y) {
  let r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
  r += (20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0 / 3.0;
  r += (20.0 * Math.sin(x * Math.PI) + 40.0 * Math.sin(x / 3.0 * Math.PI)) * 2.0 / 3.0;
  r += (150.0 * Math.sin(x / 12.0 * Math.PI) + 300.0 * Math.sin(x / 30.0 * Math.PI)) * 2.0 / 3.0;
  return r;
}

/** [lon, lat] in GCJ-02 of a WGS-84 position (unchanged outside China). */
export function toGcj02(lon, lat) {
  if (outOfChina(lon, lat)) return [lon, lat];
  let dLat = transformLat(lon - 105.0, lat - 35.0);
  let dLon = transformLon(lon - 105.0, lat - 35.0);
  const rad = lat / 180.0 * Math.PI;
  const magic = 1 - EE * Math.sin(rad) ** 2;
  const sqrtMagic = Math.sqrt(magic);
  dLat = (dLat * 180.0) / ((A * (1 - EE)) / (magic * sqrtMagic) * Math.PI);
  dLon = (dLon * 180.0) / (A / sqrtMagic * Math.cos(rad) * Math.PI);
  return [lon + dLon, lat + dLat];
}

/** A drawing function for the configured tiles: identity, or the shift to GCJ-02. */
export const forTiles = (crs) => ((crs || "wgs84").toLowerCase() === "gcj02" ? toGcj02 : (lon, lat) => [lon, lat]);
