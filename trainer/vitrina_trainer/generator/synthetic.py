"""Synthetic events in the marketplace export's schema: the project's default data.

It imitates the export the design doc was written for — a 14-day window, Android/iOS/Site traffic,
a view → cart → purchase funnel of 92 / 6.5 / 1.5 % of events, prices in kopecks, 128-bit user
ids — and gives it a structure a recommender can learn, or nothing downstream could be measured:
product popularity follows a Zipf law; customers have a few favourite subcategories and a price
level; they browse in sessions inside one subcategory; and they keep coming back to a handful of
habitual products they buy again, which in real retail data is the strongest signal there is.

Everything is drawn from one numpy Generator (deterministic for a seed) and vectorised, so the cost
grows linearly with the number of events.
"""

import gzip
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from tqdm import tqdm

from vitrina_shared.schema import EVENT_TYPES, EXPORT_PREFIX, PLATFORMS, ItemColumns, Raw
from vitrina_trainer.errors import TrainerError
from vitrina_trainer.generator.assortment import CATEGORIES, MODEL_SUFFIXES

EVENTS_FILE = "events.csv.gz"
ITEMS_FILE = "items.csv"
MAIN_CATEGORY = "main_category"
SUB_CATEGORY = "sub_category"
ITEMS_COLUMNS = (
    ItemColumns.ITEM,
    ItemColumns.TITLE,
    ItemColumns.CATEGORY,
    SUB_CATEGORY,
    ItemColumns.PRICE,
)

VIEW, CART, PURCHASE = range(3)  # codes into EVENT_TYPES
PLATFORM_SHARES = np.array([0.60, 0.25, 0.15])  # Android, iOS, Site, as in the export
FUNNEL_SHARES = np.array([0.92, 0.065, 0.015])  # view_item, add_to_cart, purchase
# Traffic by hour of day (UTC): quiet nights, a lunchtime bump, the evening peak.
HOUR_WEIGHTS = np.array(
    [3, 2, 1, 1, 1, 1, 2, 3, 4, 5, 5, 6, 6, 6, 5, 5, 5, 6, 7, 8, 9, 9, 7, 5], dtype=float
)
WEEKEND_BOOST = 1.15
DAY_SECONDS = 86_400

FAVOURITES = 3  # favourite subcategories per customer
SAME_CATEGORY_SECOND_FAVOURITE = 0.6
EXPLORE_SESSION = 0.15  # a session outside the customer's favourites
HOME_PLATFORM = 0.85  # a session on the customer's usual platform
PRICE_CANDIDATES = 3  # popular products drawn per pick; the one nearest the price level wins
HABITS_MEAN = 2.0  # habitual products per customer, on average
HABIT_FROM_TASTE = 0.5  # the rest come from re-bought subcategories (groceries, cleaning, …)
HABIT_SESSION = (1.5, 3.5)  # Beta parameters of a customer's share of re-buying sessions
PRODUCTS_PER_SESSION = {False: 3.0, True: 1.0}  # extra products per browsing / re-buying session
CART_RATE = {False: 0.12, True: 0.20}  # add to cart after viewing, browsing / habitual products
HABIT_PURCHASE_RATE = 0.6  # purchase after cart for habitual products (browsing is calibrated)
QTY_CHOICES = np.array([1, 2, 3, 4, 5, 6])
QTY_SHARES = np.array([0.82, 0.11, 0.04, 0.015, 0.01, 0.005])
PROMO_ITEMS = 0.3  # products on promotion for a few days of the window
PROMO_DISCOUNTS = np.array([0.05, 0.10, 0.15, 0.20, 0.30])
USER_ID_LENGTH = 39  # digits of a 128-bit integer
MAX_DAYS = 3_660  # ten years; event times are int32 seconds
WRITE_CHUNK_ROWS = 1_000_000
GZIP_LEVEL = 1


@dataclass(frozen=True)
class GeneratorConfig:
    """What to generate; the defaults make a few hundred thousand events, quick to train on."""

    users: int = 5_000
    items: int = 2_000
    days: int = 14
    start: str = "2023-07-31"
    seed: int = 42
    sessions_per_day: float = 0.6  # per customer, on average

    def __post_init__(self) -> None:
        for name in ("users", "items", "days"):
            if getattr(self, name) < 1:
                raise TrainerError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.days > MAX_DAYS:
            raise TrainerError(f"days must be at most {MAX_DAYS}, got {self.days}")
        if not self.sessions_per_day > 0:
            raise TrainerError(f"sessions_per_day must be positive, got {self.sessions_per_day}")
        try:
            np.datetime64(self.start, "D")
        except ValueError as exc:
            raise TrainerError(f"start must be a date like 2023-07-31, got {self.start!r}") from exc

    @property
    def start_day(self) -> np.datetime64:
        return np.datetime64(self.start, "D")


@dataclass
class Catalog:
    """Products sorted by subcategory, then from the most to the least popular."""

    ids: np.ndarray  # bytes, digits
    titles: list[str]
    sub: np.ndarray  # subcategory index
    price100: np.ndarray
    price_rank: np.ndarray  # 0 (cheapest) … 1 (dearest) within the subcategory
    sub_start: np.ndarray
    sub_end: np.ndarray
    promo_start: np.ndarray  # day index; promo_days == 0 means no promotion
    promo_days: np.ndarray
    promo_discount: np.ndarray

    def frame(self) -> pd.DataFrame:
        """The catalog as `items.csv` holds it."""
        return pd.DataFrame(
            {
                ItemColumns.ITEM: self.ids.astype(str),
                ItemColumns.TITLE: self.titles,
                ItemColumns.CATEGORY: MAIN_NAMES[SUB_MAIN[self.sub]],
                SUB_CATEGORY: SUB_NAMES[self.sub],
                ItemColumns.PRICE: self.price100,
            }
        )


@dataclass
class Events:
    """Generated events as code arrays, sorted by (time, user, event type)."""

    seconds: np.ndarray  # since the start of the window
    user: np.ndarray  # index into user_ids
    item: np.ndarray  # row of the catalog
    event: np.ndarray  # index into EVENT_TYPES
    platform: np.ndarray  # index into PLATFORMS
    price100: np.ndarray
    qty: np.ndarray
    user_ids: np.ndarray  # bytes, digits

    def __len__(self) -> int:
        return len(self.seconds)


@dataclass
class SyntheticData:
    config: GeneratorConfig
    catalog: Catalog
    events: Events

    def events_frame(self, raw_export: bool = False) -> pd.DataFrame:
        """The events exactly as the CSV holds them (all text but price and quantity)."""
        table = pa.concat_tables(_tables(self, raw_export, len(self.events) + 1))
        return table.to_pandas()


@dataclass
class Summary:
    """What `write_dataset` wrote, for the command line."""

    events_path: Path
    items_path: Path
    rows: int
    events: int
    users: int
    items: int
    first_day: str
    last_day: str
    funnel: dict[str, float]
    platforms: dict[str, float]
    seconds: float

    def __str__(self) -> str:
        funnel = " / ".join(f"{name} {share:.1%}" for name, share in self.funnel.items())
        platforms = " / ".join(f"{name} {share:.1%}" for name, share in self.platforms.items())
        rate = self.events / max(self.seconds, 1e-9)
        return (
            f"wrote {self.events:,} events ({self.rows:,} rows) of {self.users:,} customers over "
            f"{self.items:,} products, {self.first_day} … {self.last_day}\n"
            f"  funnel:    {funnel}\n"
            f"  platforms: {platforms}\n"
            f"  {self.events_path} and {self.items_path} in {self.seconds:.1f} s "
            f"({rate:,.0f} events/s)"
        )


def _flatten_assortment() -> tuple[np.ndarray, ...]:
    subs = [
        (index, sub) for index, category in enumerate(CATEGORIES) for sub in category.subcategories
    ]
    return (
        np.array([category.name for category in CATEGORIES], dtype=object),
        np.array([sub.name for _, sub in subs], dtype=object),
        np.array([index for index, _ in subs]),
        np.array([sub.price_roubles for _, sub in subs]),
        np.array([sub.traffic for _, sub in subs], dtype=float),
        np.array([sub.rebuy for _, sub in subs]),
    )


MAIN_NAMES, SUB_NAMES, SUB_MAIN, SUB_PRICE, SUB_TRAFFIC, SUB_REBUY = _flatten_assortment()
SUBCATEGORIES = [sub for category in CATEGORIES for sub in category.subcategories]


def _nice_price100(roubles: np.ndarray) -> np.ndarray:
    """Shop prices: 349 → 34900, 3 499 → 349900 kopecks."""
    step = np.where(roubles >= 1_000, 100, np.where(roubles >= 100, 10, 1))
    return ((np.ceil(roubles / step) * step - 1).clip(min=19) * 100).astype(np.int64)


def _product_ids(count: int, rng: np.random.Generator) -> np.ndarray:
    """Distinct eight-digit product ids (`ecom.nm`), as digit strings."""
    return (rng.choice(90_000_000, size=count, replace=False) + 10_000_000).astype("S8")


def _titles(sub: np.ndarray, rng: np.random.Generator) -> list[str]:
    """Titles like "Wireless headphones Sonix 300 Pro" or "Organic pasta Zerno, 500 g"."""
    draws = rng.random((len(sub), 4))
    model = rng.integers(1, 100, len(sub)) * 10
    titles = []
    for index, (s, (q, n, b, x)) in enumerate(zip(sub.tolist(), draws.tolist(), strict=True)):
        sub_kind = SUBCATEGORIES[s]
        brands = CATEGORIES[SUB_MAIN[s]].brands
        qualifier = sub_kind.qualifiers[int(q * len(sub_kind.qualifiers))]
        noun = sub_kind.nouns[int(n * len(sub_kind.nouns))]
        brand = brands[int(b * len(brands))]
        if sub_kind.variants:
            variant = sub_kind.variants[int(x * len(sub_kind.variants))]
            titles.append(f"{qualifier} {noun} {brand}, {variant}")
        else:
            suffix = MODEL_SUFFIXES[int(x * len(MODEL_SUFFIXES))]
            titles.append(f"{qualifier} {noun} {brand} {model[index]}{suffix}")
    return titles


def make_catalog(config: GeneratorConfig, rng: np.random.Generator) -> Catalog:
    """Products spread over subcategories by traffic, with prices and Zipf popularity."""
    n_sub = len(SUB_NAMES)
    shares = SUB_TRAFFIC / SUB_TRAFFIC.sum()
    # Every subcategory gets a product before any gets a second, when there are enough products.
    first = rng.permutation(n_sub)[: min(config.items, n_sub)]
    rest = rng.choice(n_sub, size=config.items - len(first), p=shares)
    sub = np.sort(np.concatenate([first, rest]))
    roubles = SUB_PRICE[sub] * rng.lognormal(0.0, 0.5, config.items)
    price100 = _nice_price100(roubles)

    counts = np.bincount(sub, minlength=n_sub)
    sub_end = np.cumsum(counts)
    sub_start = sub_end - counts
    order = np.lexsort((price100, sub))
    rank_in_sub = np.empty(config.items)
    rank_in_sub[order] = np.arange(config.items) - sub_start[sub[order]]
    price_rank = rank_in_sub / np.maximum(counts[sub] - 1, 1)

    promoted = rng.random(config.items) < PROMO_ITEMS
    return Catalog(
        ids=_product_ids(config.items, rng),
        titles=_titles(sub, rng),
        sub=sub,
        price100=price100,
        price_rank=price_rank,
        sub_start=sub_start,
        sub_end=sub_end,
        promo_start=rng.integers(-3, config.days, config.items),
        promo_days=np.where(promoted, rng.integers(1, 6, config.items), 0),
        promo_discount=rng.choice(PROMO_DISCOUNTS, size=config.items),
    )


def _pick_products(
    catalog: Catalog, sub: np.ndarray, level: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Popular products of each subcategory, nudged towards the customer's price level.

    Rows of a subcategory are in popularity order and the k-th (from 0) is drawn with probability
    ≈ 1 / ((k + 1.5) ln(n + 1)), a Zipf law with an inverse in closed form, so a pick costs O(1).
    """
    start = catalog.sub_start[sub]
    count = catalog.sub_end[sub] - start
    scale = np.log1p(count)

    def candidate() -> tuple[np.ndarray, np.ndarray]:
        rank = np.exp(rng.random(len(sub)) * scale).astype(np.int64) - 1
        rows = start + np.minimum(rank, count - 1)
        return rows, np.abs(catalog.price_rank[rows] - level)

    best, best_gap = candidate()
    for _ in range(PRICE_CANDIDATES - 1):
        rows, gap = candidate()
        best = np.where(gap < best_gap, rows, best)
        best_gap = np.minimum(gap, best_gap)
    return best


def _draw(shares: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    return rng.choice(len(shares), size=size, p=shares / shares.sum())


@dataclass
class Customers:
    ids: np.ndarray  # bytes, digits
    favourites: np.ndarray  # (users, FAVOURITES) subcategory indices
    favourite_cum: np.ndarray  # (users, FAVOURITES) cumulative taste weights
    price_level: np.ndarray
    platform: np.ndarray
    habit_session: np.ndarray  # share of re-buying sessions
    sessions: np.ndarray  # sessions in the window
    habit_start: np.ndarray  # into habits
    habit_count: np.ndarray
    habits: np.ndarray  # catalog rows


def _user_ids(count: int, rng: np.random.Generator) -> np.ndarray:
    """Decimal strings of 128-bit-like integers, 30 to 39 digits, like the export's user ids."""
    digits = rng.integers(0, 10, (count, USER_ID_LENGTH), dtype=np.uint8) + ord("0")
    length = USER_ID_LENGTH - np.minimum(rng.geometric(0.7, count) - 1, USER_ID_LENGTH - 30)
    lead = np.where(length == USER_ID_LENGTH, rng.integers(1, 3, count), rng.integers(1, 10, count))
    digits[:, 0] = lead + ord("0")
    digits[np.arange(USER_ID_LENGTH)[None, :] >= length[:, None]] = 0  # 'S' drops trailing NULs
    return digits.view(f"S{USER_ID_LENGTH}").ravel()


def make_customers(
    config: GeneratorConfig, catalog: Catalog, rng: np.random.Generator
) -> Customers:
    """Customers with favourite subcategories, a price level, a platform and habits."""
    users = config.users
    stocked = np.bincount(catalog.sub, minlength=len(SUB_NAMES)) > 0
    traffic = SUB_TRAFFIC * stocked

    favourites = _draw(traffic, users * FAVOURITES, rng).reshape(users, FAVOURITES)
    # The second favourite is often a neighbour of the first (sneakers and boots).
    by_main = np.lexsort((np.arange(len(SUB_NAMES)), SUB_MAIN))
    by_main = by_main[stocked[by_main]]
    main_count = np.bincount(SUB_MAIN[by_main], minlength=len(MAIN_NAMES))
    main_start = _starts(main_count)
    main = SUB_MAIN[favourites[:, 0]]
    neighbour = by_main[main_start[main] + (rng.random(users) * main_count[main]).astype(int)]
    same = rng.random(users) < SAME_CATEGORY_SECOND_FAVOURITE
    favourites[:, 1] = np.where(same, neighbour, favourites[:, 1])
    taste = np.sort(rng.dirichlet(np.ones(FAVOURITES), users), axis=1)[:, ::-1]

    activity = rng.lognormal(-0.32, 0.8, users)  # mean 1
    sessions = 1 + rng.poisson(activity * config.sessions_per_day * config.days)
    price_level = rng.beta(2.0, 2.0, users)

    habit_count = 1 + rng.poisson(HABITS_MEAN - 1, users)
    habit_owner = np.repeat(np.arange(users), habit_count)
    from_taste = rng.random(len(habit_owner)) < HABIT_FROM_TASTE
    taste_sub = favourites[habit_owner, rng.integers(0, FAVOURITES, len(habit_owner))]
    rebuy_sub = _draw(traffic * SUB_REBUY, len(habit_owner), rng)
    habit_sub = np.where(from_taste, taste_sub, rebuy_sub)
    habits = _pick_products(catalog, habit_sub, price_level[habit_owner], rng)

    return Customers(
        ids=_user_ids(users, rng),
        favourites=favourites,
        favourite_cum=np.cumsum(taste, axis=1),
        price_level=price_level,
        platform=_draw(PLATFORM_SHARES, users, rng),
        habit_session=rng.beta(*HABIT_SESSION, users),
        sessions=sessions,
        habit_start=_starts(habit_count),
        habit_count=habit_count,
        habits=habits,
    )


def _exclusive_cumsum(values: np.ndarray, group_start: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Sum of the earlier values of the same group, for rows ordered by group."""
    before = np.cumsum(values) - values
    return before - before[group_start][group]


def _starts(counts: np.ndarray) -> np.ndarray:
    """Where each group begins in rows laid out group after group, given the groups' sizes."""
    return np.cumsum(counts) - counts


@dataclass
class Sessions:
    """Visits: who, when, on which platform, re-buying habits or browsing one subcategory."""

    user: np.ndarray
    start: np.ndarray  # seconds since the start of the window
    platform: np.ndarray
    rebuying: np.ndarray
    sub: np.ndarray
    products: np.ndarray  # products looked at


def make_sessions(
    config: GeneratorConfig, catalog: Catalog, customers: Customers, rng: np.random.Generator
) -> Sessions:
    """Sessions in time order, which leaves the final sort of the events little to do."""
    user = np.repeat(np.arange(config.users), customers.sessions)
    count = len(user)
    weekday = (np.arange(config.days) + config.start_day.view("int64") + 3) % 7  # 0 is Monday
    start = (
        _draw(np.where(weekday >= 5, WEEKEND_BOOST, 1.0), count, rng) * DAY_SECONDS
        + _draw(HOUR_WEIGHTS, count, rng) * 3_600
        + rng.integers(0, 3_600, count)
    )
    chronological = np.argsort(start, kind="stable")
    user, start = user[chronological], start[chronological]
    platform = np.where(
        rng.random(count) < HOME_PLATFORM,
        customers.platform[user],
        _draw(PLATFORM_SHARES, count, rng),
    )
    rebuying = rng.random(count) < customers.habit_session[user]
    slot = (rng.random(count)[:, None] > customers.favourite_cum[user, :-1]).sum(axis=1)
    sub = customers.favourites[user, slot]
    explore = rng.random(count) < EXPLORE_SESSION
    stocked = np.bincount(catalog.sub, minlength=len(SUB_NAMES)) > 0
    sub[explore] = _draw(SUB_TRAFFIC * stocked, int(explore.sum()), rng)
    extra = np.where(rebuying, PRODUCTS_PER_SESSION[True], PRODUCTS_PER_SESSION[False])
    return Sessions(user, start, platform, rebuying, sub, 1 + rng.poisson(extra))


@dataclass
class Looks:
    """Products looked at, one row each, in session order, with what came of each."""

    session: np.ndarray
    item: np.ndarray
    views: np.ndarray
    carted: np.ndarray
    bought: np.ndarray
    qty: np.ndarray


def make_looks(
    catalog: Catalog, customers: Customers, sessions: Sessions, rng: np.random.Generator
) -> Looks:
    """What each session looked at, and the funnel calibrated to the export's 92 / 6.5 / 1.5 %."""
    session = np.repeat(np.arange(len(sessions.user)), sessions.products)
    n = len(session)
    owner = sessions.user[session]
    habitual = sessions.rebuying[session]
    item = np.empty(n, dtype=np.int64)
    browsing = np.flatnonzero(~habitual)
    item[browsing] = _pick_products(
        catalog, sessions.sub[session[browsing]], customers.price_level[owner[browsing]], rng
    )
    # A re-buying session goes through the customer's habits from a random one onwards.
    habit = np.flatnonzero(habitual)
    habit_owner = owner[habit]
    first_habit = rng.random(len(sessions.user)) * customers.habit_count[sessions.user]
    nth = (
        first_habit.astype(np.int64)[session[habit]]
        + habit
        - _starts(sessions.products)[session[habit]]
    )
    pick = customers.habit_start[habit_owner] + nth % customers.habit_count[habit_owner]
    item[habit] = customers.habits[pick]

    habit_share = habitual.mean()
    carts = habit_share * CART_RATE[True] + (1 - habit_share) * CART_RATE[False]
    views = carts * FUNNEL_SHARES[VIEW] / FUNNEL_SHARES[CART]
    purchases = carts * FUNNEL_SHARES[PURCHASE] / FUNNEL_SHARES[CART]
    habit_purchases = habit_share * CART_RATE[True] * HABIT_PURCHASE_RATE
    browse_rate = (purchases - habit_purchases) / max((1 - habit_share) * CART_RATE[False], 1e-9)
    purchase_rate = np.where(habitual, HABIT_PURCHASE_RATE, np.clip(browse_rate, 0.0, 1.0))
    cart_rate = np.where(habitual, CART_RATE[True], CART_RATE[False])
    n_views = 1 + rng.poisson(max(views - 1, 0.0), n)
    carted = rng.random(n) < cart_rate
    bought = carted & (rng.random(n) < purchase_rate)
    qty = QTY_CHOICES[_draw(QTY_SHARES, n, rng)]
    return Looks(session, item, n_views, carted, bought, qty)


def make_events(
    config: GeneratorConfig, catalog: Catalog, customers: Customers, rng: np.random.Generator
) -> Events:
    """Sessions → products looked at → views, carts and purchases with times and prices."""
    sessions = make_sessions(config, catalog, customers, rng)
    looks = make_looks(catalog, customers, sessions, rng)
    session, views = looks.session, looks.views
    n = len(session)

    # Times: views a few seconds apart, the cart right after, a pause before the next product,
    # and one checkout at the end of the session for everything bought in it.
    view_gap = 3 + rng.exponential(15.0, n).astype(np.int64)
    cart_delay = 2 + rng.exponential(8.0, n).astype(np.int64)
    pause = 5 + rng.exponential(40.0, n).astype(np.int64)
    span = views * view_gap + cart_delay + pause
    session_start = _starts(sessions.products)
    at = sessions.start[session] + _exclusive_cumsum(span, session_start, session)
    last = session_start + sessions.products - 1
    checkout = at[last] + span[last] + rng.exponential(30.0, len(last)).astype(np.int64)

    # One event row per view, cart and purchase (int32 and in-place steps keep memory down).
    per_product = (views + looks.carted + looks.bought).astype(np.int32)
    row_product = np.repeat(np.arange(n, dtype=np.int32), per_product)
    step = np.arange(len(row_product), dtype=np.int32)
    step -= _starts(per_product)[row_product]
    row_views = views.astype(np.int32)[row_product]
    event = (step >= row_views).astype(np.int8)
    event += step > row_views  # VIEW 0, CART 1, PURCHASE 2
    np.minimum(step, row_views, out=step)  # the k-th view, or after the last view
    del row_views
    seconds = at.astype(np.int32)[row_product]
    seconds += step * view_gap.astype(np.int32)[row_product]
    del step
    seconds += (event >= CART) * cart_delay.astype(np.int32)[row_product]
    purchase_rows = np.flatnonzero(event == PURCHASE)
    seconds[purchase_rows] = checkout[session[row_product[purchase_rows]]]

    # The export's window cuts off what came after it; a product bought twice in one session is
    # one purchase.
    keep = seconds < config.days * DAY_SECONDS
    purchase_rows = purchase_rows[keep[purchase_rows]]
    bought_product = row_product[purchase_rows]
    key = session[bought_product] * config.items + looks.item[bought_product]
    _, first = np.unique(key, return_index=True)
    keep[purchase_rows] = False
    keep[purchase_rows[first]] = True
    row_product, event, seconds = row_product[keep], event[keep], seconds[keep]
    del keep

    row_item = looks.item.astype(np.int32)[row_product]
    price100 = _prices(catalog, row_item, seconds)
    row_user = sessions.user.astype(np.int32)[session[row_product]]
    key = (seconds.astype(np.int64) * config.users + row_user) * 3 + event
    order = np.argsort(key, kind="stable")
    del key
    seconds, row_user, row_item, event = (
        seconds[order],
        row_user[order],
        row_item[order],
        event[order],
    )
    keep = _first_of_each_moment(seconds, row_user, event, row_item)
    order = order[keep]
    return Events(
        seconds=seconds[keep],
        user=row_user[keep],
        item=row_item[keep],
        event=event[keep],
        platform=sessions.platform.astype(np.int8)[session[row_product]][order],
        price100=price100[order],
        qty=np.where(event[keep] == VIEW, 1, looks.qty.astype(np.int16)[row_product[order]]),
        user_ids=customers.ids,
    )


def _prices(catalog: Catalog, item: np.ndarray, seconds: np.ndarray) -> np.ndarray:
    """Listed prices, less the promotion of the day for products on one, in whole roubles."""
    price100 = catalog.price100[item].astype(np.int32)
    promo_day = seconds // DAY_SECONDS - catalog.promo_start[item]
    promoted = np.flatnonzero((promo_day >= 0) & (promo_day < catalog.promo_days[item]))
    discount = 1 - catalog.promo_discount[item[promoted]]
    price100[promoted] = np.rint(price100[promoted] * discount / 100) * 100
    return price100


def _first_of_each_moment(
    seconds: np.ndarray, user: np.ndarray, event: np.ndarray, item: np.ndarray
) -> np.ndarray:
    """Rows to keep so a customer has one event per product, type and second.

    Two overlapping sessions of one customer can otherwise repeat a row, which the reader would
    count as a duplicate. Only the rare runs of one customer's events in one second are checked.
    """
    same = (np.diff(seconds) == 0) & (np.diff(user) == 0) & (np.diff(event) == 0)
    crowded = np.flatnonzero(np.append(same, False) | np.insert(same, 0, False))
    repeated = pd.DataFrame(
        {"s": seconds[crowded], "u": user[crowded], "e": event[crowded], "i": item[crowded]}
    ).duplicated()
    keep = np.ones(len(seconds), dtype=bool)
    keep[crowded[repeated.to_numpy()]] = False
    return keep


def generate(config: GeneratorConfig) -> SyntheticData:
    """The whole dataset in memory: catalog and events."""
    rng = np.random.default_rng(config.seed)
    catalog = make_catalog(config, rng)
    customers = make_customers(config, catalog, rng)
    return SyntheticData(config, catalog, make_events(config, catalog, customers, rng))


def _text(values: np.ndarray) -> pa.Array:
    return pa.array(values, pa.binary()).cast(pa.string())


def _time_texts(config: GeneratorConfig, seconds: np.ndarray) -> tuple[pa.Array, pa.Array]:
    """Event times and dates of sorted `seconds` as the export writes them.

    Each distinct second is formatted once: there are far fewer of them than events.
    """
    new = np.concatenate([[True], np.diff(seconds) != 0])
    which = pa.array(np.cumsum(new) - 1)
    iso = np.datetime_as_string(config.start_day.astype("datetime64[s]") + seconds[new], unit="s")
    chars = np.empty((len(iso), 25), dtype=np.uint8)
    chars[:, :19] = iso.astype("S19").view(np.uint8).reshape(-1, 19)
    chars[:, 10] = ord(" ")
    chars[:, 19:] = np.frombuffer(b"+00:00", dtype=np.uint8)
    dates = np.ascontiguousarray(chars[:, :10]).view("S10").ravel()
    return _text(chars.view("S25").ravel()).take(which), _text(dates).take(which)


def _group_bounds(events: Events, lo: int, hi: int) -> np.ndarray:
    """Starts of runs of one customer's events at one moment (one raw-export row each)."""
    s = slice(lo, hi)
    changed = (
        (np.diff(events.seconds[s]) != 0)
        | (np.diff(events.user[s]) != 0)
        | (np.diff(events.event[s]) != 0)
        | (np.diff(events.platform[s]) != 0)
    )
    return np.concatenate([[0], np.flatnonzero(changed) + 1])


def _bracketed(values: pa.Array, starts: np.ndarray, total: int, as_list: np.ndarray) -> pa.Array:
    """`[34900, 12000]` for grouped rows, the plain value for the others."""
    offsets = pa.array(np.append(starts, total).astype(np.int32))
    text = values.cast(pa.string())
    joined = pc.binary_join(pa.ListArray.from_arrays(offsets, text), ", ")
    wrapped = pc.binary_join_element_wise("[", joined, "]", "")
    return pc.if_else(pa.array(as_list), wrapped, text.take(pa.array(starts)))


def _chunk_table(data: SyntheticData, lo: int, hi: int, raw_export: bool) -> pa.Table:
    events, catalog = data.events, data.catalog
    s = slice(lo, hi)
    times, days = _time_texts(data.config, events.seconds[s])
    event_names = [f"{EXPORT_PREFIX}{name}" if raw_export else name for name in EVENT_TYPES]
    columns = {
        Raw.PLATFORM: pa.array(PLATFORMS).take(pa.array(events.platform[s])),
        Raw.EVENT_TIME: times,
        Raw.EVENT_DATE: days,
        Raw.USER_ID: _text(events.user_ids[events.user[s]]),
        Raw.EVENT_TYPE: pa.array(event_names).take(pa.array(events.event[s])),
        Raw.PRICE100: pa.array(events.price100[s]),
        Raw.QTY: pa.array(events.qty[s]),
        Raw.ITEM_ID: _text(catalog.ids[events.item[s]]),
    }
    if not raw_export:
        return pa.table(columns)
    starts = _group_bounds(events, lo, hi)
    as_list = (events.event[s][starts] == PURCHASE) | (np.diff(np.append(starts, hi - lo)) > 1)
    table = pa.table({name: column.take(pa.array(starts)) for name, column in columns.items()})
    for name in (Raw.PRICE100, Raw.QTY, Raw.ITEM_ID):
        grouped = _bracketed(columns[name], starts, hi - lo, as_list)
        table = table.set_column(table.column_names.index(name), name, grouped)
    sub = catalog.sub[events.item[s][starts]]
    table = table.append_column(MAIN_CATEGORY, pa.array(MAIN_NAMES[SUB_MAIN[sub]], pa.string()))
    return table.append_column(SUB_CATEGORY, pa.array(SUB_NAMES[sub], pa.string()))


def _chunk_bounds(data: SyntheticData, chunk_rows: int) -> list[tuple[int, int]]:
    """Row ranges of about `chunk_rows`, never splitting one moment of one customer."""
    events, total = data.events, len(data.events)
    bounds, lo = [], 0
    while lo < total:
        hi = min(lo + chunk_rows, total)
        while hi < total and events.seconds[hi] == events.seconds[hi - 1]:
            hi += 1
        bounds.append((lo, hi))
        lo = hi
    return bounds


def _tables(data: SyntheticData, raw_export: bool, chunk_rows: int):
    for lo, hi in _chunk_bounds(data, chunk_rows):
        yield _chunk_table(data, lo, hi, raw_export)


def write_events(data: SyntheticData, path: Path, raw_export: bool = False) -> int:
    """Write the events as gzipped CSV; returns the number of rows written."""
    quoting = "needed" if raw_export else "none"  # bracketed lists hold commas
    rows = 0
    progress = tqdm(total=len(data.events), unit=" events", desc="writing", disable=None)
    with path.open("wb") as raw, gzip.GzipFile("", "wb", GZIP_LEVEL, raw, mtime=0) as sink:
        options = pacsv.WriteOptions(include_header=False, quoting_style=quoting)
        for lo, hi in _chunk_bounds(data, WRITE_CHUNK_ROWS):
            table = _chunk_table(data, lo, hi, raw_export)
            if rows == 0:  # arrow would quote the header's names
                sink.write((",".join(table.column_names) + "\n").encode())
            pacsv.write_csv(table, sink, write_options=options)
            rows += table.num_rows
            progress.update(hi - lo)
    progress.close()
    return rows


def write_dataset(config: GeneratorConfig, out_dir: Path, raw_export: bool = False) -> Summary:
    """Generate and write `out_dir/events.csv.gz` and `out_dir/items.csv`."""
    began = time.perf_counter()
    data = generate(config)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    items_path, events_path = out_dir / ITEMS_FILE, out_dir / EVENTS_FILE
    data.catalog.frame()[list(ITEMS_COLUMNS)].to_csv(items_path, index=False)
    rows = write_events(data, events_path, raw_export)
    events = data.events
    funnel = np.bincount(events.event, minlength=len(EVENT_TYPES)) / len(events)
    platforms = np.bincount(events.platform, minlength=len(PLATFORMS)) / len(events)
    last = int(events.seconds.max()) // DAY_SECONDS
    first = int(events.seconds.min()) // DAY_SECONDS
    return Summary(
        events_path=events_path,
        items_path=items_path,
        rows=rows,
        events=len(events),
        users=len(np.unique(events.user)),
        items=config.items,
        first_day=str(config.start_day + first),
        last_day=str(config.start_day + last),
        funnel=dict(zip(EVENT_TYPES, funnel.round(4).tolist(), strict=True)),
        platforms=dict(zip(PLATFORMS, platforms.round(4).tolist(), strict=True)),
        seconds=time.perf_counter() - began,
    )
