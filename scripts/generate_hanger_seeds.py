#!/usr/bin/env python3
"""Generate the CSV seeds of The Hanger, the example dbt project of hangar.

The Hanger is a chain of climbing gyms. This script writes the raw tables of
its operational database (gyms, members, memberships, check-ins, routes,
route setters, ascents, day-pass and retail sales) as CSV files under
``seeds/``. Output is deterministic: a fixed random seed and no clock reads,
so re-running it reproduces the committed files byte for byte.

Types are kept plain so seed type inference works on every adapter:
ISO dates (YYYY-MM-DD), ISO timestamps (YYYY-MM-DD HH:MM:SS), integers,
booleans as true/false, money as integer cents, empty cells for NULL.

Usage: python3 scripts/generate_hanger_seeds.py [OUTDIR]   (default: seeds/)
"""

import csv
import datetime as dt
import random
import sys
from pathlib import Path

RANDOM_SEED = 20240601
PERIOD_START = dt.date(2023, 7, 1)
PERIOD_END = dt.date(2024, 12, 31)  # ~18 months, inclusive

N_MEMBERS = 3000
N_CHECK_INS = 100_000
N_ROUTES = 1500
N_SETTERS = 25
N_ASCENTS = 60_000
N_DAY_PASSES = 12_000
N_RETAIL = 15_000

GYMS = [
    # gym_id, name, city, state, opened_on, wall_area_sqm, has_lead_walls
    (1, "The Hanger Downtown", "Denver", "CO", "2015-03-14", 1850, "true"),
    (2, "The Hanger Riverside", "Boulder", "CO", "2017-09-02", 1400, "true"),
    (3, "The Hanger Eastside", "Aurora", "CO", "2019-05-18", 1100, "false"),
    (4, "The Hanger Foothills", "Golden", "CO", "2020-11-07", 950, "false"),
    (5, "The Hanger Northside", "Fort Collins", "CO", "2022-02-26", 1650, "true"),
    (6, "The Hanger Southgate", "Colorado Springs", "CO", "2023-08-19", 1250, "true"),
]
# Relative traffic of each gym (Downtown busiest, the new Southgate ramps up).
GYM_WEIGHTS = [30, 22, 14, 10, 16, 8]

FIRST_NAMES = [
    "Alex", "Sam", "Jordan", "Taylor", "Morgan", "Casey", "Riley", "Jamie",
    "Avery", "Quinn", "Harper", "Rowan", "Emery", "Skyler", "Reese", "Drew",
    "Maya", "Lena", "Noah", "Liam", "Emma", "Olivia", "Ava", "Mia", "Lucas",
    "Ethan", "Sofia", "Isla", "Leo", "Nina", "Omar", "Priya", "Kenji", "Ana",
    "Mateo", "Zoe", "Ines", "Tomas", "Yara", "Felix",
]
LAST_NAMES = [
    "Sharma", "Nguyen", "Garcia", "Smith", "Johnson", "Brown", "Lee", "Kim",
    "Martinez", "Lopez", "Wilson", "Anderson", "Thomas", "Moore", "Jackson",
    "White", "Harris", "Clark", "Lewis", "Walker", "Hall", "Young", "King",
    "Wright", "Scott", "Green", "Baker", "Adams", "Nelson", "Hill", "Campbell",
    "Mitchell", "Roberts", "Carter", "Phillips", "Evans", "Turner", "Torres",
]

# plan, monthly fee in cents, relative popularity
PLANS = [("monthly", 8900, 45), ("annual", 7400, 25), ("student", 6200, 15),
         ("family", 14900, 5), ("ten_punch", 0, 10)]

WALLS = ["cave", "slab", "arete", "prow", "barrel", "comp wall", "lead wall", "training board"]
COLORS = ["red", "blue", "green", "yellow", "black", "white", "purple", "orange", "pink", "teal"]
BOULDER_GRADES = [f"V{i}" for i in range(11)]
ROPE_GRADES = ["5.8", "5.9"] + [f"5.{n}{l}" for n in (10, 11, 12, 13) for l in "abcd"]
# Gyms set many more easy and mid routes than hard ones.
BOULDER_WEIGHTS = [8, 12, 14, 14, 12, 10, 8, 6, 4, 2, 1]
ROPE_WEIGHTS = [6, 9, 9, 9, 8, 8, 7, 6, 5, 4, 3, 2, 2, 1, 1, 0.5, 0.5, 0.5]

# Check-in shape: weekday weights (Mon..Sun) and hour weights 6..22.
WEEKDAY_WEIGHTS = [14, 16, 15, 16, 12, 15, 12]
HOUR_WEIGHTS = {6: 3, 7: 5, 8: 4, 9: 3, 10: 3, 11: 3, 12: 5, 13: 4, 14: 3,
                15: 4, 16: 7, 17: 11, 18: 13, 19: 11, 20: 7, 21: 4, 22: 1}
WEEKEND_HOUR_WEIGHTS = {8: 3, 9: 6, 10: 9, 11: 10, 12: 10, 13: 9, 14: 9,
                        15: 8, 16: 7, 17: 6, 18: 5, 19: 3, 20: 2}

STYLES = [("attempt", 40), ("redpoint", 30), ("flash", 20), ("onsight", 10)]
PASS_TYPES = [("adult", 2400, 60), ("youth", 1800, 15), ("student", 2000, 15),
              ("guest_of_member", 1500, 10)]
RETAIL = [  # category, product, unit price cents
    ("chalk", "Loose chalk 300g", 1400), ("chalk", "Chalk ball", 800),
    ("chalk", "Liquid chalk", 1600), ("shoes", "Rental shoes", 600),
    ("shoes", "Performance shoes", 17900), ("shoes", "Beginner shoes", 9900),
    ("apparel", "Hanger t-shirt", 2800), ("apparel", "Hanger hoodie", 6500),
    ("food", "Protein bar", 350), ("food", "Coffee", 400), ("food", "Smoothie", 750),
    ("gear", "Harness", 7500), ("gear", "Belay device", 3200), ("gear", "Brush", 900),
]


def days_in_period():
    return (PERIOD_END - PERIOD_START).days + 1


def random_date(rng, start, end):
    span = (end - start).days
    return start + dt.timedelta(days=rng.randint(0, max(span, 0)))


def weighted(rng, items, weights):
    return rng.choices(items, weights=weights, k=1)[0]


def write_csv(outdir, name, header, rows):
    path = outdir / f"{name}.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def fmt_ts(d, hour, minute, second=0):
    return f"{d.isoformat()} {hour:02d}:{minute:02d}:{second:02d}"


def gen_gyms():
    return list(GYMS)


def gen_members(rng):
    """Members join over several years; most of them recently."""
    rows = []
    emails = set()
    for member_id in range(1, N_MEMBERS + 1):
        first = rng.choice(FIRST_NAMES)
        last = rng.choice(LAST_NAMES)
        email = f"{first}.{last}{member_id}@example.com".lower()
        emails.add(email)
        birth = dt.date(1960, 1, 1) + dt.timedelta(days=rng.randint(0, 365 * 48))
        home_gym = weighted(rng, [g[0] for g in GYMS], GYM_WEIGHTS)
        gym_opened = dt.date.fromisoformat(GYMS[home_gym - 1][4])
        earliest = max(gym_opened, dt.date(2019, 1, 1))
        # 60% of members joined before the reporting period.
        if rng.random() < 0.6:
            joined = random_date(rng, earliest, PERIOD_START - dt.timedelta(days=1))
        else:
            joined = random_date(rng, max(earliest, PERIOD_START), PERIOD_END - dt.timedelta(days=30))
        rows.append([member_id, first, last, email, birth.isoformat(), home_gym,
                     joined.isoformat()])
    return rows


def gen_memberships(rng, members):
    """One or two membership periods per member; about a third have churned."""
    rows = []
    membership_id = 0
    periods = {}  # member_id -> list of (start, end or None)
    for member_id, _, _, _, _, _, joined_s in members:
        start = dt.date.fromisoformat(joined_s)
        n_periods = 1 if rng.random() < 0.8 else 2
        for i in range(n_periods):
            plan, fee, _ = weighted(rng, PLANS, [p[2] for p in PLANS])
            churns = rng.random() < (0.35 if i == n_periods - 1 else 1.0)
            end = None
            status = "active"
            if churns:
                length = rng.randint(45, 540)
                end = start + dt.timedelta(days=length)
                if end > PERIOD_END:
                    end = None
                else:
                    status = weighted(rng, ["cancelled", "expired"], [70, 30])
            if status == "active" and rng.random() < 0.04:
                status = "paused"
            membership_id += 1
            updated = end if end else start + dt.timedelta(days=rng.randint(0, 30))
            if updated > PERIOD_END:
                updated = PERIOD_END
            rows.append([membership_id, member_id, plan, start.isoformat(),
                         end.isoformat() if end else "", status, fee,
                         fmt_ts(updated, rng.randint(6, 22), rng.randint(0, 59))])
            periods.setdefault(member_id, []).append((start, end))
            if end is None:
                break
            # A returning member comes back after a gap.
            start = end + dt.timedelta(days=rng.randint(20, 120))
            if start > PERIOD_END - dt.timedelta(days=10):
                break
    return rows, periods


def member_active_days(periods):
    """Every day of the reporting period covered by one of the member's memberships."""
    days = []
    for start, end in periods:
        lo = max(start, PERIOD_START)
        hi = min(end or PERIOD_END, PERIOD_END)
        days.extend(lo + dt.timedelta(days=i) for i in range((hi - lo).days + 1))
    return days


def gen_check_ins(rng, members, periods):
    """Check-ins only during an active membership, with weekday/hour patterns.

    Each member gets a habitual number of visits per week (log-normal: most
    come once or twice, a few nearly every day); every active day is then a
    visit with that probability, shaped by the weekday. Rates are scaled so
    the expected total slightly exceeds N_CHECK_INS, then trimmed to it.
    """
    home = {m[0]: m[5] for m in members}
    mean_weekday = sum(WEEKDAY_WEIGHTS) / 7
    weekly = {m[0]: min(5.5, max(0.2, rng.lognormvariate(0.4, 0.6))) for m in members}
    days = {m[0]: member_active_days(periods[m[0]]) for m in members}
    expected = sum(weekly[m] / 7 * len(days[m]) for m in weekly)
    scale = N_CHECK_INS * 1.03 / expected
    weekday_hours = (list(HOUR_WEIGHTS), list(HOUR_WEIGHTS.values()))
    weekend_hours = (list(WEEKEND_HOUR_WEIGHTS), list(WEEKEND_HOUR_WEIGHTS.values()))
    gym_ids = [g[0] for g in GYMS]
    southgate_open = dt.date.fromisoformat(GYMS[5][4])
    rows = []
    for member_id, _, _, _, _, _, _ in members:
        daily = min(0.95, weekly[member_id] * scale / 7)
        for day in days[member_id]:
            weekday = day.weekday()
            if rng.random() >= daily * WEEKDAY_WEIGHTS[weekday] / mean_weekday:
                continue
            hours, weights = weekend_hours if weekday >= 5 else weekday_hours
            hour = weighted(rng, hours, weights)
            gym = home[member_id] if rng.random() < 0.85 else weighted(rng, gym_ids, GYM_WEIGHTS)
            if gym == 6 and day < southgate_open:
                gym = home[member_id] if home[member_id] != 6 else 1
            duration = max(20, int(rng.gauss(105, 30)))
            rows.append([member_id, gym,
                         fmt_ts(day, hour, rng.randint(0, 59), rng.randint(0, 59)), duration])
    if len(rows) > N_CHECK_INS:
        rows = [rows[i] for i in sorted(rng.sample(range(len(rows)), N_CHECK_INS))]
    rows.sort(key=lambda r: (r[2], r[0]))
    return [[i + 1] + r for i, r in enumerate(rows)]


def gen_route_setters(rng):
    rows = []
    for setter_id in range(1, N_SETTERS + 1):
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        gym = weighted(rng, [g[0] for g in GYMS], GYM_WEIGHTS)
        hired = random_date(rng, dt.date(2016, 1, 1), dt.date(2023, 6, 30))
        is_head = "true" if setter_id <= len(GYMS) else "false"
        rows.append([setter_id, name, gym, hired.isoformat(), is_head])
    return rows


def gen_routes(rng):
    """Routes are set continuously; each stays up for 4-10 weeks."""
    rows = []
    for route_id in range(1, N_ROUTES + 1):
        gym_id = weighted(rng, [g[0] for g in GYMS], GYM_WEIGHTS)
        has_lead = GYMS[gym_id - 1][6] == "true"
        discipline = "rope" if has_lead and rng.random() < 0.35 else "boulder"
        if discipline == "boulder":
            grade = weighted(rng, BOULDER_GRADES, BOULDER_WEIGHTS)
            wall = rng.choice([w for w in WALLS if w != "lead wall"])
        else:
            grade = weighted(rng, ROPE_GRADES, ROPE_WEIGHTS)
            wall = "lead wall"
        opened = max(PERIOD_START, dt.date.fromisoformat(GYMS[gym_id - 1][4]))
        set_on = random_date(rng, opened - dt.timedelta(days=30), PERIOD_END - dt.timedelta(days=7))
        removed = set_on + dt.timedelta(days=rng.randint(28, 70))
        removed_s = removed.isoformat() if removed <= PERIOD_END else ""
        setter = rng.randint(1, N_SETTERS)
        rows.append([route_id, gym_id, wall, discipline, grade, rng.choice(COLORS),
                     setter, set_on.isoformat(), removed_s])
    return rows


def gen_ascents(rng, routes, check_ins):
    """Ascents happen on a member's check-in day, on a route up at that gym."""
    by_gym = {}
    for r in routes:
        by_gym.setdefault(r[1], []).append(r)
    rows = []
    while len(rows) < N_ASCENTS:
        ci = rng.choice(check_ins)
        _, member_id, gym_id, ts, _ = ci
        day = dt.date.fromisoformat(ts[:10])
        candidates = [
            r for r in rng.sample(by_gym[gym_id], min(40, len(by_gym[gym_id])))
            if dt.date.fromisoformat(r[7]) <= day and (not r[8] or dt.date.fromisoformat(r[8]) > day)
        ]
        if not candidates:
            continue
        route = rng.choice(candidates)
        style = weighted(rng, [s[0] for s in STYLES], [s[1] for s in STYLES])
        rating = "" if rng.random() < 0.15 else weighted(rng, [1, 2, 3, 4, 5], [5, 10, 30, 35, 20])
        rows.append([member_id, route[0], day.isoformat(), style, rating])
    rows.sort(key=lambda r: (r[2], r[0], r[1]))
    return [[i + 1] + r for i, r in enumerate(rows)]


def random_sale_time(rng, gym_id):
    opened = max(PERIOD_START, dt.date.fromisoformat(GYMS[gym_id - 1][4]))
    day = random_date(rng, opened, PERIOD_END)
    return fmt_ts(day, rng.randint(7, 21), rng.randint(0, 59), rng.randint(0, 59))


def gen_day_pass_sales(rng):
    rows = []
    for _ in range(N_DAY_PASSES):
        gym_id = weighted(rng, [g[0] for g in GYMS], GYM_WEIGHTS)
        pass_type, price, _ = weighted(rng, PASS_TYPES, [p[2] for p in PASS_TYPES])
        qty = weighted(rng, [1, 2, 3, 4], [70, 20, 7, 3])
        rows.append([gym_id, random_sale_time(rng, gym_id), pass_type, qty, price])
    rows.sort(key=lambda r: (r[1], r[0]))
    return [[i + 1] + r for i, r in enumerate(rows)]


def gen_retail_sales(rng):
    rows = []
    for _ in range(N_RETAIL):
        gym_id = weighted(rng, [g[0] for g in GYMS], GYM_WEIGHTS)
        category, product, price = rng.choice(RETAIL)
        qty = weighted(rng, [1, 2, 3], [85, 12, 3])
        member = rng.randint(1, N_MEMBERS) if rng.random() < 0.6 else ""
        rows.append([gym_id, member, random_sale_time(rng, gym_id), category, product, qty, price])
    rows.sort(key=lambda r: (r[2], r[0]))
    return [[i + 1] + r for i, r in enumerate(rows)]


def main(argv):
    outdir = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent.parent / "seeds"
    outdir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(RANDOM_SEED)

    gyms = gen_gyms()
    members = gen_members(rng)
    memberships, periods = gen_memberships(rng, members)
    check_ins = gen_check_ins(rng, members, periods)
    setters = gen_route_setters(rng)
    routes = gen_routes(rng)
    ascents = gen_ascents(rng, routes, check_ins)
    day_passes = gen_day_pass_sales(rng)
    retail = gen_retail_sales(rng)

    tables = [
        ("raw_gyms", ["gym_id", "gym_name", "city", "state", "opened_on", "wall_area_sqm",
                      "has_lead_walls"], gyms),
        ("raw_members", ["member_id", "first_name", "last_name", "email", "birth_date",
                         "home_gym_id", "joined_on"], members),
        ("raw_memberships", ["membership_id", "member_id", "plan", "started_on", "ended_on",
                             "status", "monthly_fee_cents", "updated_at"], memberships),
        ("raw_check_ins", ["check_in_id", "member_id", "gym_id", "checked_in_at",
                           "duration_minutes"], check_ins),
        ("raw_route_setters", ["setter_id", "setter_name", "home_gym_id", "hired_on",
                               "is_head_setter"], setters),
        ("raw_routes", ["route_id", "gym_id", "wall", "discipline", "grade", "hold_color",
                        "setter_id", "set_on", "removed_on"], routes),
        ("raw_ascents", ["ascent_id", "member_id", "route_id", "climbed_on", "style",
                         "rating"], ascents),
        ("raw_day_pass_sales", ["sale_id", "gym_id", "sold_at", "pass_type", "quantity",
                                "unit_price_cents"], day_passes),
        ("raw_retail_sales", ["sale_id", "gym_id", "member_id", "sold_at", "product_category",
                              "product_name", "quantity", "unit_price_cents"], retail),
    ]
    total = 0
    for name, header, rows in tables:
        path = write_csv(outdir, name, header, rows)
        size = path.stat().st_size
        total += size
        print(f"{path}: {len(rows)} rows, {size / 1e6:.2f} MB")
    print(f"total: {total / 1e6:.2f} MB")


if __name__ == "__main__":
    main(sys.argv)
