//! Rentals on their way from the source to the rollup database. Every rental COPY passes through
//! [`RentalStream`], a reader and writer of PostgreSQL's binary COPY format that:
//!
//! * adds the three week columns of the mirror (rental_week, return_week, last_event_week), so
//!   neither server spends time on them: the Monday 00:00 UTC of the week holding the instant,
//!   which is `date_trunc('week', ts at time zone 'UTC')` (see [`monday`]);
//! * counts the rows, sums PostgreSQL's `hashint4(rental_id)` (the id checksum, [`hashint4`]) and
//!   keeps the greatest last_update;
//! * for a full load, tallies the weekly events per film exactly as the model int_weekly_events
//!   counts them from the mirror ([`RentalStream::weekly_events_copy`]), so a full load makes no
//!   second pass over millions of rentals. The weekly tables are then computed from those events
//!   by their models, as in an incremental run: the running sums exist once, in SQL. The
//!   property test holds the tally to the model (after every run, int_weekly_events equals the
//!   model's rows for every week).

use std::collections::HashMap;

use anyhow::{Context, Result, bail};

/// The binary COPY signature, then flags and header-extension length (both zero when we write).
const SIGNATURE: &[u8] = b"PGCOPY\n\xff\r\n\0";

const USECS_PER_DAY: i64 = 86_400_000_000;

/// A block of rental ids is `rental_id >> BLOCK_BITS`: 256 ids (a floor division, also for
/// negative ids), the unit in which the mirror is compared with the source.
pub const BLOCK_BITS: i32 = 8;

/// The Monday of the week holding an instant, as PostgreSQL's date: days since 2000-01-01.
/// `usecs` is a timestamptz as PostgreSQL sends it: microseconds since 2000-01-01 00:00 UTC.
/// Weeks start Monday 00:00 UTC, so this is `date_trunc('week', ts at time zone 'UTC')::date`:
/// the UTC day of the instant, back to the Monday (2000-01-03 was one). Floor division keeps
/// instants before 2000 right; infinite timestamps have no week.
pub fn monday(usecs: i64) -> Result<i32> {
    if usecs == i64::MAX || usecs == i64::MIN {
        bail!("an infinite timestamp has no week");
    }
    let day = usecs.div_euclid(USECS_PER_DAY);
    let monday = day - (day - 2).rem_euclid(7);
    i32::try_from(monday).context("a timestamp out of the range of dates")
}

/// PostgreSQL's `hashint4`: `hash_uint32` (Bob Jenkins' lookup3 final mix) of the integer, as
/// src/common/hashfn.c has it. Hash partitioning depends on it, so it does not change between
/// versions; a unit test pins it to values PostgreSQL returns.
pub fn hashint4(key: i32) -> i32 {
    let mut a: u32 = 0x9e37_79b9_u32
        .wrapping_add(std::mem::size_of::<u32>() as u32)
        .wrapping_add(3_923_095);
    let mut b = a;
    let mut c = a;
    a = a.wrapping_add(key as u32);
    c ^= b;
    c = c.wrapping_sub(b.rotate_left(14));
    a ^= c;
    a = a.wrapping_sub(c.rotate_left(11));
    b ^= a;
    b = b.wrapping_sub(a.rotate_left(25));
    c ^= b;
    c = c.wrapping_sub(b.rotate_left(16));
    a ^= c;
    a = a.wrapping_sub(c.rotate_left(4));
    b ^= a;
    b = b.wrapping_sub(a.rotate_left(14));
    c ^= b;
    c = c.wrapping_sub(b.rotate_left(24));
    c as i32
}

/// Events of one film (None: a copy missing from inventory) in one week, as the model
/// int_weekly_events counts them.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct WeekEvents {
    pub rentals_started: i64,
    pub rentals_returned: i64,
    pub returned_in_order: i64,
    pub returned_out_of_order: i64,
}

/// Columns the source sends, in order (source::rental_select).
const INPUT_COLUMNS: usize = 6;
const RENTAL_ID: usize = 0;
const INVENTORY_ID: usize = 1;
const RENTAL_DATE: usize = 2;
const RETURN_DATE: usize = 3;
const LAST_UPDATE: usize = 4;
const ROW_HASH: usize = 5;
/// What the mirror stores: the input and the three weeks (source::RENTAL_COLUMNS).
const OUTPUT_COLUMNS: i16 = 9;

/// Reads the source's binary COPY of rentals in chunks of any size and writes the mirror's.
pub struct RentalStream {
    /// inventory_id -> film_id, when tallying events (a full load).
    film_of_copy: Option<HashMap<i32, i32>>,
    pending: Vec<u8>,
    header_read: bool,
    finished: bool,
    pub rows: i64,
    /// Sum of hashint4(rental_id), as the id checksum of source::summary.
    pub id_checksum: i64,
    /// Microseconds since 2000-01-01 00:00 UTC (PostgreSQL's epoch).
    pub last_update_max: Option<i64>,
    /// (film, week as days since 2000-01-01) -> events; empty unless tallying.
    pub events: HashMap<(Option<i32>, i32), WeekEvents>,
    /// Block of ids (`rental_id >> 8`) -> (rentals, sum of id hashes, sum of row hashes): the
    /// mirror's rollup.mirror_blocks; empty unless tallying.
    pub blocks: HashMap<i32, (i64, i64, i64)>,
}

impl RentalStream {
    /// `film_of_copy` (inventory_id -> film_id, from the same snapshot) makes it tally events.
    pub fn new(film_of_copy: Option<HashMap<i32, i32>>) -> Self {
        Self {
            film_of_copy,
            pending: Vec::with_capacity(1 << 16),
            header_read: false,
            finished: false,
            rows: 0,
            id_checksum: 0,
            last_update_max: None,
            events: HashMap::new(),
            blocks: HashMap::new(),
        }
    }

    /// Takes the next bytes of the source's stream; appends what goes to the mirror to `out`.
    pub fn feed(&mut self, chunk: &[u8], out: &mut Vec<u8>) -> Result<()> {
        self.pending.extend_from_slice(chunk);
        let buf = std::mem::take(&mut self.pending);
        let used = self.parse(&buf, out);
        self.pending = buf;
        self.pending.drain(..used?);
        Ok(())
    }

    /// Checks the stream ended with its trailer.
    pub fn finish(&self) -> Result<()> {
        if !self.finished || !self.pending.is_empty() {
            bail!("the COPY stream of rentals ended early or with extra bytes");
        }
        Ok(())
    }

    /// Parses the complete tuples at the start of `buf`; returns the bytes used.
    fn parse(&mut self, buf: &[u8], out: &mut Vec<u8>) -> Result<usize> {
        let mut pos = 0;
        if !self.header_read {
            if buf.len() < SIGNATURE.len() + 8 {
                return Ok(0);
            }
            if &buf[..SIGNATURE.len()] != SIGNATURE {
                bail!("the source's COPY output is not in binary format");
            }
            let extension = be_u32(&buf[SIGNATURE.len() + 4..]) as usize;
            if buf.len() < SIGNATURE.len() + 8 + extension {
                return Ok(0);
            }
            pos = SIGNATURE.len() + 8 + extension;
            self.header_read = true;
            write_header(out);
        }
        let mut fields: [Option<&[u8]>; INPUT_COLUMNS] = [None; INPUT_COLUMNS];
        'tuples: while !self.finished {
            let Some(count) = buf.get(pos..pos + 2) else {
                break;
            };
            let count = i16::from_be_bytes([count[0], count[1]]);
            if count == -1 {
                self.finished = true;
                pos += 2;
                out.extend_from_slice(&(-1i16).to_be_bytes());
                break;
            }
            if count as usize != INPUT_COLUMNS {
                bail!("a rental of the COPY stream has {count} columns, not {INPUT_COLUMNS}");
            }
            let start = pos;
            let mut at = pos + 2;
            for field in fields.iter_mut() {
                let Some(len) = buf.get(at..at + 4) else {
                    break 'tuples;
                };
                let len = i32::from_be_bytes([len[0], len[1], len[2], len[3]]);
                at += 4;
                if len < 0 {
                    *field = None;
                } else {
                    let Some(value) = buf.get(at..at + len as usize) else {
                        break 'tuples;
                    };
                    *field = Some(value);
                    at += len as usize;
                }
            }
            self.rental(&fields, &buf[start + 2..at], out)?;
            pos = at;
        }
        Ok(pos)
    }

    /// One rental: writes it with its weeks, and counts it.
    fn rental(
        &mut self,
        fields: &[Option<&[u8]>; INPUT_COLUMNS],
        input_fields: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<()> {
        let int4 = |i: usize| fields[i].map(be_i32);
        let int8 = |i: usize| fields[i].map(be_i64);
        let (Some(rental_id), Some(inventory_id), Some(rental_date), Some(row_hash)) = (
            int4(RENTAL_ID),
            int4(INVENTORY_ID),
            int8(RENTAL_DATE),
            int4(ROW_HASH),
        ) else {
            bail!("a rental of the COPY stream lacks an id, inventory_id, rental_date or row_hash");
        };
        let return_date = int8(RETURN_DATE);
        let rental_week = monday(rental_date)?;
        let return_week = return_date.map(monday).transpose()?;
        let last_event_week = rental_week.max(return_week.unwrap_or(rental_week));

        out.extend_from_slice(&OUTPUT_COLUMNS.to_be_bytes());
        out.extend_from_slice(input_fields);
        for week in [Some(rental_week), return_week, Some(last_event_week)] {
            match week {
                Some(days) => {
                    out.extend_from_slice(&4i32.to_be_bytes());
                    out.extend_from_slice(&days.to_be_bytes());
                }
                None => out.extend_from_slice(&(-1i32).to_be_bytes()),
            }
        }

        self.rows += 1;
        self.id_checksum += i64::from(hashint4(rental_id));
        self.last_update_max = self.last_update_max.max(int8(LAST_UPDATE));
        let Some(film_of_copy) = &self.film_of_copy else {
            return Ok(());
        };
        let block = self.blocks.entry(rental_id >> BLOCK_BITS).or_default();
        block.0 += 1;
        block.1 = block.1.wrapping_add(i64::from(hashint4(rental_id)));
        block.2 = block.2.wrapping_add(i64::from(row_hash));
        let film = film_of_copy.get(&inventory_id).copied();
        let rented = self.events.entry((film, rental_week)).or_default();
        rented.rentals_started += 1;
        if return_week.is_some_and(|returned| returned < rental_week) {
            rented.returned_out_of_order += 1;
        }
        if let Some(returned) = return_week {
            let back = self.events.entry((film, returned)).or_default();
            back.rentals_returned += 1;
            if returned >= rental_week {
                back.returned_in_order += 1;
            }
        }
        Ok(())
    }
}

/// The Monday as `YYYY-MM-DD`.
pub fn format_week(days: i32) -> Result<String> {
    // PostgreSQL's dates count days from 2000-01-01, Julian day 2,451,545.
    let date = time::Date::from_julian_day(2_451_545 + days)
        .context("a week out of the range of dates")?;
    Ok(date.to_string())
}

impl RentalStream {
    /// The series of a full load: the first rental's week and the latest rental or return week
    /// (days since 2000-01-01); None without rentals.
    pub fn series(&self) -> Option<(i32, i32)> {
        let first = self
            .events
            .iter()
            .filter(|(_, events)| events.rentals_started > 0)
            .map(|(&(_, week), _)| week)
            .min()?;
        let last = self.events.keys().map(|&(_, week)| week).max()?;
        Some((first, last))
    }

    /// The tallied events of the weeks from `first` to `last`, the rows of the model
    /// int_weekly_events, as a binary COPY stream of (film_id, week_beginning, rentals_started,
    /// rentals_returned, returned_in_order, returned_out_of_order), by film and week.
    pub fn weekly_events_copy(&self, first: i32, last: i32) -> Vec<u8> {
        let mut keys: Vec<&(Option<i32>, i32)> = self
            .events
            .keys()
            .filter(|(_, week)| (first..=last).contains(week))
            .collect();
        keys.sort();
        let mut out = Vec::with_capacity(keys.len() * 58 + 32);
        write_header(&mut out);
        for key in keys {
            let (film, week) = *key;
            let events = self.events[key];
            out.extend_from_slice(&6i16.to_be_bytes());
            match film {
                Some(film) => put_int4(&mut out, film),
                None => out.extend_from_slice(&(-1i32).to_be_bytes()),
            }
            put_int4(&mut out, week);
            for value in [
                events.rentals_started,
                events.rentals_returned,
                events.returned_in_order,
                events.returned_out_of_order,
            ] {
                out.extend_from_slice(&8i32.to_be_bytes());
                out.extend_from_slice(&value.to_be_bytes());
            }
        }
        out.extend_from_slice(&(-1i16).to_be_bytes());
        out
    }
}

fn put_int4(out: &mut Vec<u8>, value: i32) {
    out.extend_from_slice(&4i32.to_be_bytes());
    out.extend_from_slice(&value.to_be_bytes());
}

fn write_header(out: &mut Vec<u8>) {
    out.extend_from_slice(SIGNATURE);
    out.extend_from_slice(&0u32.to_be_bytes());
    out.extend_from_slice(&0u32.to_be_bytes());
}

fn be_u32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

fn be_i32(b: &[u8]) -> i32 {
    i32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

fn be_i64(b: &[u8]) -> i64 {
    i64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = USECS_PER_DAY;

    #[test]
    fn hashint4_is_postgresqls() {
        // select i, hashint4(i) from (values (0), (1), ...) as v (i)
        for (key, hash) in [
            (0, -272_711_505),
            (1, -1_905_060_026),
            (2, 1_134_484_726),
            (42, 1_509_752_520),
            (16_049, 934_539_587),
            (-1, 385_747_274),
            (i32::MAX, -96_758_253),
            (i32::MIN, -1_524_351_049),
            (123_456_789, 524_883_300),
        ] {
            assert_eq!(hashint4(key), hash, "hashint4({key})");
        }
    }

    #[test]
    fn weeks_start_monday_midnight_utc() {
        // 2000-01-01 was a Saturday: its week began Monday 1999-12-27, day -5.
        assert_eq!(monday(0).unwrap(), -5);
        // 2000-01-03 00:00:00 is a Monday: its own week; a microsecond before is the last one.
        assert_eq!(monday(2 * DAY).unwrap(), 2);
        assert_eq!(monday(2 * DAY - 1).unwrap(), -5);
        // Sunday 2000-01-09 23:59:59.999999 is still in the week of the 3rd.
        assert_eq!(monday(9 * DAY - 1).unwrap(), 2);
        assert_eq!(monday(9 * DAY).unwrap(), 9);
        // Long before 2000: 1970-01-01 (a Thursday) is in the week of Monday 1969-12-29.
        assert_eq!(monday(-10_957 * DAY).unwrap(), -10_960);
        assert!(monday(i64::MAX).is_err() && monday(i64::MIN).is_err());
    }

    /// A source COPY stream of rentals (id, inventory, rental day, return day, hash).
    fn stream(rows: &[(i32, i32, i64, Option<i64>, i32)]) -> Vec<u8> {
        let mut out = Vec::new();
        write_header(&mut out);
        for &(id, inventory, rented, returned, hash) in rows {
            out.extend_from_slice(&(INPUT_COLUMNS as i16).to_be_bytes());
            let int4 = |out: &mut Vec<u8>, v: i32| {
                out.extend_from_slice(&4i32.to_be_bytes());
                out.extend_from_slice(&v.to_be_bytes());
            };
            let int8 = |out: &mut Vec<u8>, v: i64| {
                out.extend_from_slice(&8i32.to_be_bytes());
                out.extend_from_slice(&v.to_be_bytes());
            };
            int4(&mut out, id);
            int4(&mut out, inventory);
            int8(&mut out, rented * DAY);
            match returned {
                Some(r) => int8(&mut out, r * DAY),
                None => out.extend_from_slice(&(-1i32).to_be_bytes()),
            }
            int8(&mut out, i64::from(id));
            int4(&mut out, hash);
        }
        out.extend_from_slice(&(-1i16).to_be_bytes());
        out
    }

    #[test]
    fn tallies_events_and_adds_weeks_whatever_the_chunking() {
        // Days since 2000-01-01: 2 and 5 are in the week of day 2; 9 and 12 in the week of 9.
        let rows = [
            (1, 10, 2, Some(12), 5),
            (2, 10, 5, None, -3),
            (3, 11, 9, Some(5), 1), // returned before it was rented
            (4, 99, 2, Some(5), 2), // a copy not in inventory
        ];
        let bytes = stream(&rows);
        let mut outputs = Vec::new();
        for chunk in [1, 3, 7, 64, bytes.len()] {
            let mut s = RentalStream::new(Some(HashMap::from([(10, 1), (11, 2)])));
            let mut out = Vec::new();
            for piece in bytes.chunks(chunk) {
                s.feed(piece, &mut out).unwrap();
            }
            s.finish().unwrap();
            assert_eq!((s.rows, s.last_update_max), (4, Some(4)));
            let at = |film, week| s.events.get(&(film, week)).copied().unwrap_or_default();
            let events = |started, returned, in_order, out_of_order| WeekEvents {
                rentals_started: started,
                rentals_returned: returned,
                returned_in_order: in_order,
                returned_out_of_order: out_of_order,
            };
            assert_eq!(at(Some(1), 2), events(2, 0, 0, 0));
            assert_eq!(at(Some(1), 9), events(0, 1, 1, 0));
            assert_eq!(at(Some(2), 9), events(1, 0, 0, 1));
            assert_eq!(at(Some(2), 2), events(0, 1, 0, 0));
            assert_eq!(at(None, 2), events(1, 1, 1, 0));
            assert_eq!(s.events.len(), 5);
            outputs.push(out);
        }
        assert!(outputs.windows(2).all(|w| w[0] == w[1]));
        // The first rental as the mirror gets it: its six columns, then weeks 2, 9 and 9.
        let out = &outputs[0];
        let first = SIGNATURE.len() + 8;
        assert_eq!(&out[first..first + 2], &9i16.to_be_bytes());
        let weeks_at = first + 2 + (4 + 4) * 2 + (4 + 8) * 3 + (4 + 4);
        let week = |i: usize| be_i32(&out[weeks_at + 8 * i + 4..]);
        assert_eq!((week(0), week(1), week(2)), (2, 9, 9));
        assert_eq!(&out[out.len() - 2..], &(-1i16).to_be_bytes());
    }

    #[test]
    fn the_series_and_its_events_as_copy_rows() {
        // Film 1: rented in week 2, back in week 9; rented in week 9, still out.
        // Film 2: rented in week 16, "returned" in week 2 (bad data).
        let mut s = RentalStream::new(Some(HashMap::from([(10, 1), (11, 2)])));
        let mut out = Vec::new();
        s.feed(
            &stream(&[
                (1, 10, 3, Some(10), 0),
                (2, 10, 10, None, 0),
                (3, 11, 17, Some(4), 0),
            ]),
            &mut out,
        )
        .unwrap();
        assert_eq!(s.series(), Some((2, 16)));
        // Weeks 9 to 16 only: film 1 in week 9 (one back, one rented), film 2 in week 16.
        let copy = s.weekly_events_copy(9, 16);
        let rows = &copy[SIGNATURE.len() + 8..copy.len() - 2];
        let row = 2 + 8 + 8 + 4 * 12;
        assert_eq!(rows.len(), 2 * row);
        let field = |r: usize, at: usize| be_i32(&rows[r * row + at..]);
        let int8 = |r: usize, i: usize| be_i64(&rows[r * row + 2 + 16 + 12 * i + 4..]);
        assert_eq!((field(0, 2 + 4), field(0, 2 + 8 + 4)), (1, 9));
        assert_eq!([0, 1, 2, 3].map(|i| int8(0, i)), [1, 1, 1, 0]);
        assert_eq!((field(1, 2 + 4), field(1, 2 + 8 + 4)), (2, 16));
        assert_eq!([0, 1, 2, 3].map(|i| int8(1, i)), [1, 0, 0, 1]);
        assert_eq!(format_week(2).unwrap(), "2000-01-03");
        assert_eq!(format_week(-5).unwrap(), "1999-12-27");
    }

    #[test]
    fn without_inventory_it_tallies_nothing() {
        let mut s = RentalStream::new(None);
        let mut out = Vec::new();
        s.feed(&stream(&[(1, 10, 2, None, 5)]), &mut out).unwrap();
        s.finish().unwrap();
        assert_eq!(s.rows, 1);
        assert!(s.events.is_empty());
    }

    #[test]
    fn a_truncated_stream_is_an_error() {
        let bytes = stream(&[(1, 10, 2, None, 5)]);
        let mut s = RentalStream::new(None);
        s.feed(&bytes[..bytes.len() - 3], &mut Vec::new()).unwrap();
        assert!(s.finish().is_err());
    }
}
