"""The synthetic shop's assortment: categories, subcategories and the words their titles use.

Each subcategory carries its share of traffic, a typical price in roubles and how often people
buy it again (groceries and cleaning supplies are re-bought; boots and tents are not), so the
generated data has the shape of a general marketplace rather than uniform noise.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Subcategory:
    name: str
    nouns: tuple[str, ...]
    qualifiers: tuple[str, ...]
    price_roubles: float
    traffic: float
    rebuy: float
    variants: tuple[str, ...] = ()  # pack sizes that name consumables instead of model numbers


@dataclass(frozen=True)
class Category:
    name: str
    brands: tuple[str, ...]
    subcategories: tuple[Subcategory, ...]


CATEGORIES: tuple[Category, ...] = (
    Category(
        "Electronics",
        ("Sonix", "Voltra", "Nexio", "Kiwa", "Arcton"),
        (
            Subcategory(
                "Headphones",
                ("headphones", "earbuds", "headset"),
                ("Wireless", "Bluetooth", "Noise-cancelling", "Sport", "Over-ear", "In-ear"),
                3500,
                5,
                0.2,
            ),
            Subcategory(
                "Smartphones",
                ("smartphone",),
                ("5G", "Dual-SIM", "Compact", "Rugged"),
                25000,
                4,
                0.05,
            ),
            Subcategory(
                "Chargers and cables",
                ("charger", "USB-C cable", "power bank", "wireless charger"),
                ("Fast", "Braided", "Compact", "20W", "65W"),
                1200,
                4,
                0.5,
            ),
            Subcategory(
                "Smart watches",
                ("smart watch", "fitness band"),
                ("AMOLED", "Waterproof", "Kids'", "Sport"),
                7000,
                3,
                0.1,
            ),
        ),
    ),
    Category(
        "Home and kitchen",
        ("Domika", "Hearth", "Kasa", "Teplo"),
        (
            Subcategory(
                "Cookware",
                ("frying pan", "saucepan", "wok", "baking dish"),
                ("Non-stick", "Cast-iron", "Ceramic", "Steel"),
                2500,
                3,
                0.2,
            ),
            Subcategory(
                "Small appliances",
                ("kettle", "blender", "toaster", "coffee maker"),
                ("Electric", "Glass", "Compact", "Stainless"),
                4500,
                3,
                0.1,
            ),
            Subcategory(
                "Storage",
                ("storage box", "food container set", "shelf organizer"),
                ("Stackable", "Airtight", "Folding"),
                900,
                2,
                0.4,
            ),
            Subcategory(
                "Home textiles",
                ("bath towel", "bed linen set", "blanket", "pillow"),
                ("Cotton", "Soft", "Linen", "Hypoallergenic"),
                1800,
                3,
                0.3,
            ),
        ),
    ),
    Category(
        "Clothing",
        ("Nordline", "Urbana", "Lumi", "Pastel"),
        (
            Subcategory(
                "Women's clothing",
                ("dress", "blouse", "skirt", "cardigan"),
                ("Summer", "Floral", "Knitted", "Oversized"),
                2500,
                8,
                0.3,
            ),
            Subcategory(
                "Men's clothing",
                ("T-shirt", "shirt", "jeans", "hoodie"),
                ("Cotton", "Slim-fit", "Classic", "Oversized"),
                2200,
                5,
                0.3,
            ),
            Subcategory(
                "Kids' clothing",
                ("romper", "kids' T-shirt", "kids' jacket", "pyjamas"),
                ("Cotton", "Bright", "Warm"),
                1200,
                4,
                0.4,
            ),
        ),
    ),
    Category(
        "Shoes",
        ("Stride", "Kedi", "Marsh", "Pace"),
        (
            Subcategory(
                "Sneakers",
                ("sneakers", "running shoes", "trainers"),
                ("Lightweight", "Breathable", "White", "Retro"),
                4500,
                4,
                0.15,
            ),
            Subcategory(
                "Sandals and slippers",
                ("sandals", "slippers", "flip-flops"),
                ("Summer", "Leather", "Beach"),
                1500,
                3,
                0.2,
            ),
            Subcategory(
                "Boots",
                ("ankle boots", "boots", "Chelsea boots"),
                ("Leather", "Waterproof", "Insulated"),
                6500,
                2,
                0.05,
            ),
        ),
    ),
    Category(
        "Beauty",
        ("Belle", "Aqualis", "Mira", "Florea"),
        (
            Subcategory(
                "Skin care",
                ("face cream", "serum", "cleansing foam", "sunscreen SPF 50"),
                ("Hydrating", "Vitamin C", "Gentle", "Night"),
                900,
                5,
                0.9,
                ("30 ml", "50 ml", "150 ml"),
            ),
            Subcategory(
                "Makeup",
                ("mascara", "lipstick", "foundation", "eyeshadow palette"),
                ("Matte", "Long-lasting", "Volume", "Nude"),
                700,
                4,
                0.8,
            ),
            Subcategory(
                "Hair care",
                ("shampoo", "conditioner", "hair mask", "hair dryer"),
                ("Repairing", "Volumizing", "Argan"),
                600,
                3,
                0.9,
                ("250 ml", "400 ml", "1 l"),
            ),
            Subcategory(
                "Fragrance",
                ("eau de parfum", "eau de toilette"),
                ("Floral", "Woody", "Fresh"),
                3500,
                2,
                0.4,
                ("30 ml", "50 ml", "100 ml"),
            ),
        ),
    ),
    Category(
        "Grocery",
        ("Zerno", "Medok", "Ferma", "Kofeyna"),
        (
            Subcategory(
                "Coffee and tea",
                ("ground coffee", "coffee beans", "green tea", "black tea"),
                ("Arabica", "Organic", "Decaf", "Earl Grey"),
                600,
                4,
                1.0,
                ("250 g", "500 g", "1 kg", "100 bags"),
            ),
            Subcategory(
                "Snacks",
                ("granola bars", "nut mix", "dark chocolate", "crackers"),
                ("Protein", "Salted", "Sugar-free"),
                250,
                4,
                1.0,
                ("150 g", "200 g", "pack of 6"),
            ),
            Subcategory(
                "Pantry",
                ("pasta", "olive oil", "basmati rice", "honey"),
                ("Extra virgin", "Whole-grain", "Organic"),
                350,
                3,
                1.0,
                ("500 g", "900 g", "1 l"),
            ),
        ),
    ),
    Category(
        "Household",
        ("Chisto", "Sveta", "Purum", "Aquila"),
        (
            Subcategory(
                "Cleaning",
                ("dishwashing liquid", "laundry gel", "all-purpose cleaner", "sponges"),
                ("Eco", "Concentrated", "Lemon"),
                400,
                4,
                1.0,
                ("500 ml", "1 l", "2 l"),
            ),
            Subcategory(
                "Paper goods",
                ("toilet paper", "paper towels", "wet wipes", "napkins"),
                ("3-ply", "Soft", "Unscented"),
                350,
                3,
                1.0,
                ("8 rolls", "12 rolls", "pack of 100"),
            ),
        ),
    ),
    Category(
        "Kids and toys",
        ("Malysh", "Toyo", "Bambi"),
        (
            Subcategory(
                "Toys",
                ("building blocks", "plush bear", "toy car", "puzzle"),
                ("Educational", "Wooden", "Remote-control"),
                1500,
                4,
                0.2,
            ),
            Subcategory(
                "Baby care",
                ("diapers", "baby wipes", "baby bottle", "teether"),
                ("Sensitive", "Hypoallergenic", "Eco"),
                1200,
                3,
                1.0,
                ("pack of 64", "pack of 120", "set of 3"),
            ),
        ),
    ),
    Category(
        "Sports",
        ("Vershina", "Stayer", "Kedr"),
        (
            Subcategory(
                "Fitness",
                ("yoga mat", "dumbbells", "resistance bands", "jump rope"),
                ("Non-slip", "Adjustable", "Pro"),
                1500,
                3,
                0.2,
            ),
            Subcategory(
                "Outdoor",
                ("tent", "backpack", "thermos", "sleeping bag"),
                ("Waterproof", "Ultralight", "Camping"),
                4000,
                2,
                0.1,
            ),
            Subcategory(
                "Cycling",
                ("bike helmet", "bike light", "bike lock"),
                ("LED", "Urban", "Steel"),
                1800,
                1,
                0.2,
            ),
        ),
    ),
    Category(
        "Books and stationery",
        ("Litera", "Pero", "Bumaga"),
        (
            Subcategory(
                "Books",
                ("novel", "cookbook", "children's book", "self-help book"),
                ("Bestselling", "Illustrated", "Hardcover"),
                700,
                3,
                0.2,
            ),
            Subcategory(
                "Stationery",
                ("notebook", "gel pens", "planner", "marker set"),
                ("A5", "Dotted", "Pastel", "Set of 12"),
                300,
                2,
                0.6,
            ),
        ),
    ),
)

MODEL_SUFFIXES = ("", "", "", " Pro", " Mini", " Max", " Lite", " Plus")
