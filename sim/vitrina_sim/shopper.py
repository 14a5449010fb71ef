"""One simulated visit: sign in, look at the pages, click, add to cart, buy — over real HTTP.

A shopper sees only the products linked on the pages it loads, in page order, and judges each by
its hidden taste (`World.appeal`). It knows nothing of blocks, variants, sources or the model: a
link with a reference is followed as it is, like any other link.
"""

import re
from dataclasses import dataclass, field
from urllib.parse import quote

import httpx
import numpy as np

from vitrina_sim.tastes import Taste, World
from vitrina_trainer.generator.synthetic import MAIN_NAMES, SUB_MAIN

PRODUCT_LINK = re.compile(r'href="(/product/([^"?]+)(?:\?[^"]*)?)"')
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class VisitError(RuntimeError):
    """The shop answered something a shopper could not go on from."""


@dataclass(frozen=True)
class Behaviour:
    """How appeal turns into actions; the same for every shopper."""

    click_base: float = 0.01
    click_gain: float = 0.5
    max_clicks: int = 4
    cart_base: float = 0.02
    cart_gain: float = 0.7
    buy: float = 0.85
    browse_category: float = 0.5


@dataclass
class Visit:
    customer_id: str
    requests: int = 0
    clicks: int = 0
    carted: list[str] = field(default_factory=list)
    ordered: bool = False


def _csrf(page: str) -> str:
    match = CSRF.search(page)
    if match is None:
        raise VisitError("no CSRF token on the page")
    return match.group(1)


class Shopper:
    def __init__(self, client: httpx.Client, world: World, taste: Taste, rng: np.random.Generator):
        self.client, self.world, self.taste, self.rng = client, world, taste, rng
        self.visit = Visit(taste.customer_id)

    def _get(self, url: str) -> str:
        self.visit.requests += 1
        response = self.client.get(url)
        if response.status_code != 200:
            raise VisitError(f"GET {url}: {response.status_code}")
        return response.text

    def _post(self, url: str, data: dict[str, str]) -> httpx.Response:
        self.visit.requests += 1
        response = self.client.post(url, data=data)
        if response.status_code not in (200, 302, 303):
            raise VisitError(f"POST {url}: {response.status_code}")
        return response

    def sign_in(self) -> None:
        token = _csrf(self._get("/demo/"))
        answer = self._post("/demo/", {"user_id": self.taste.customer_id, "csrf_token": token})
        if answer.status_code != 302:
            raise VisitError(f"the shop did not sign in customer {self.taste.customer_id}")

    def favourite_department(self) -> str:
        top = max(self.taste.favourites, key=self.taste.favourites.__getitem__)
        return str(MAIN_NAMES[SUB_MAIN[top]])

    def look(self, page: str, behaviour: Behaviour, seen: set[str]) -> None:
        """Go down the page's products; follow the ones that appeal, maybe put them in the cart."""
        for href, product_id in PRODUCT_LINK.findall(page):
            if self.visit.clicks >= behaviour.max_clicks:
                return
            if product_id in seen:
                continue
            seen.add(product_id)
            appeal = self.world.appeal(self.taste, product_id)
            if self.rng.random() >= behaviour.click_base + behaviour.click_gain * appeal:
                continue
            self.visit.clicks += 1
            product_page = self._get(href)
            if self.rng.random() < behaviour.cart_base + behaviour.cart_gain * appeal:
                self._post(
                    f"/cart/add/{product_id}", {"qty": "1", "csrf_token": _csrf(product_page)}
                )
                self.visit.carted.append(product_id)

    def checkout(self) -> None:
        page = self._get("/orders/checkout")
        answer = self._post(
            "/orders/checkout",
            {"name": "Sim Shopper", "address": "1 Loopback Lane", "csrf_token": _csrf(page)},
        )
        self.visit.ordered = answer.status_code == 302 and "/orders/" in answer.headers.get(
            "location", ""
        )


def shop(
    client: httpx.Client,
    world: World,
    taste: Taste,
    rng: np.random.Generator,
    behaviour: Behaviour,
) -> Visit:
    shopper = Shopper(client, world, taste, rng)
    shopper.sign_in()
    seen: set[str] = set()
    shopper.look(shopper._get("/"), behaviour, seen)
    if rng.random() < behaviour.browse_category:
        department = quote(shopper.favourite_department(), safe="")
        shopper.look(shopper._get(f"/category/{department}"), behaviour, seen)
    if shopper.visit.carted and rng.random() < behaviour.buy:
        shopper.checkout()
    return shopper.visit
