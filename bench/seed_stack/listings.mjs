// The listing rules of examples/common/listings.hpp (defect_of, normalise) and the 1 KB city cap
// of examples/10_listings_system (normalise_feed_row), written as the seed team would in Node.

// The defect of listing `id` in a feed of `rows`, in listings::defect_of's order.
export function defectOf(id, rows) {
  if (id === Math.trunc(rows / 2)) return 'huge_line';
  if (id % 331 === 0) return 'missing_fields';
  if (id % 257 === 0) return 'bad_price';
  if (id % 199 === 0) return 'impossible_date';
  if (id % 503 === 0) return 'invalid_utf8';
  return 'none';
}

// std::from_chars into an int64, the whole text: an optional '-' and digits.
function integer(text) {
  return /^-?[0-9]+$/.test(text) ? Number(text) : undefined;
}

// listings::valid_utf8: lead bytes and continuation bytes, byte by byte.
function validUtf8(bytes) {
  for (let i = 0; i < bytes.length;) {
    const c = bytes[i];
    const n = c < 0x80 ? 1 : c >> 5 === 0x6 ? 2 : c >> 4 === 0xe ? 3 : c >> 3 === 0x1e ? 4 : 0;
    if (n === 0 || i + n > bytes.length) return false;
    for (let k = 1; k < n; k++) if (bytes[i + k] >> 6 !== 0x2) return false;
    i += n;
  }
  return true;
}

function dateExists(y, m, d) {
  if (y < -32767 || y > 32767 || m < 1 || m > 12 || d < 1) return false;
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1];
  return d <= days;
}

// A feed row as the producer queued it (the city as base64, since the column holds bytes; NULL
// where the feed lacked a field) becomes { listing } or { error }.
export function normalise(row) {
  const city = row.city === null ? null : Buffer.from(row.city, 'base64');
  if (city !== null && city.length > 1024) return { error: `city is ${city.length} bytes long (at most 1024)` };
  for (const field of ['city', 'price', 'listed_on', 'bedrooms']) {
    if (row[field] === null) return { error: `field '${field}' is missing` };
  }
  if (city.length === 0 || !validUtf8(city)) return { error: 'city is empty or not UTF-8' };
  const { price, listed_on: date } = row;
  const dot = price.indexOf('.');
  const units = integer(dot < 0 ? price : price.slice(0, dot));
  const cents = dot < 0 ? 0 : integer(price.slice(dot + 1));
  if (units === undefined || cents === undefined || (dot >= 0 && price.length - dot !== 3)) {
    return { error: `price '${price}' is not a decimal with 2 places` };
  }
  if (date.length !== 10 || date[4] !== '-' || date[7] !== '-') return { error: `date '${date}' is not YYYY-MM-DD` };
  const [y, m, d] = [date.slice(0, 4), date.slice(5, 7), date.slice(8, 10)].map(integer);
  if (y === undefined || m === undefined || d === undefined || !dateExists(y, m, d)) {
    return { error: `date '${date}' does not exist` };
  }
  const bedrooms = integer(row.bedrooms);
  if (bedrooms === undefined || bedrooms < 0 || bedrooms > 50) return { error: 'bedrooms is not 0-50' };
  return {
    listing: { id: row.id, city: city.toString('utf8'), price_cents: units * 100 + cents, listed_on: date, bedrooms },
  };
}
