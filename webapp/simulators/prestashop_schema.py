"""The resources the PrestaShop simulator serves, field by field.

Field lists, required flags and "not filterable" marks follow PrestaShop's own reference pages
(https://devdocs.prestashop-project.org/8/webservice/resources/<resource>/, source in the
PrestaShop/docs repository under webservice/resources/). Only the fields a connector reads or writes
are kept, plus the ones a real answer always carries; docs/prestashop-simulator.md lists what is
left out. Methods per resource follow the table of webservice/reference.md ("Available HTTP
methods"): stock_availables has no POST and no DELETE.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ALL_METHODS = frozenset({"GET", "PUT", "POST", "DELETE", "HEAD"})
NO_CREATE = frozenset({"GET", "PUT", "HEAD"})  # reference.md: stock_availables (PATCH aside)


@dataclass(frozen=True)
class Field:
    name: str
    kind: str = "str"  # id, int, money, float, date, bool, str, lang (one language: id 1)
    link: str | None = None  # the resource an id points at: written with xlink:href
    required: bool = False
    writable: bool = True  # False: a PUT carrying it is refused (PrestaShop's "setter => false")


@dataclass(frozen=True)
class Association:
    name: str  # order_rows
    node: str  # order_row
    api: str | None  # the linked resource, None for a virtual entity (order_rows)
    fields: tuple[Field, ...] = ()  # besides id


@dataclass(frozen=True)
class Resource:
    name: str  # orders
    node: str  # order
    description: str
    fields: tuple[Field, ...]
    associations: tuple[Association, ...] = ()
    methods: frozenset[str] = ALL_METHODS
    by_name: dict[str, Field] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self.by_name.update({f.name: f for f in self.fields})


ID = Field("id", "id")

# Order::$webservice_parameters gives order_rows no xlink_resource: plain ids.
ORDER_ROW_FIELDS = (
    Field("product_id", "id"),
    Field("product_attribute_id", "id"),
    Field("product_quantity", "int"),
    Field("product_name"),
    Field("product_reference"),
    Field("product_ean13"),
    Field("product_price", "money"),
    Field("id_customization", "id"),
    Field("unit_price_tax_incl", "money"),
    Field("unit_price_tax_excl", "money"),
)

ORDERS = Resource(
    "orders",
    "order",
    "The Customers orders",
    (
        ID,
        Field("id_address_delivery", "id", link="addresses", required=True),
        Field("id_address_invoice", "id", link="addresses", required=True),
        # Linked as PrestaShop links them; carts, languages and carriers are not served.
        Field("id_cart", "id", link="carts", required=True),
        Field("id_currency", "id", link="currencies", required=True),
        Field("id_lang", "id", link="languages", required=True),
        Field("id_customer", "id", link="customers", required=True),
        Field("id_carrier", "id", link="carriers", required=True),
        Field("current_state", "id", link="order_states"),
        Field("module", required=True),
        Field("invoice_number", "int"),
        Field("invoice_date", "date"),
        Field("delivery_number", "int"),
        Field("delivery_date", "date"),
        Field("valid", "bool"),
        Field("date_add", "date"),
        Field("date_upd", "date"),
        Field("shipping_number"),
        Field("id_shop_group", "id"),
        Field("id_shop", "id"),
        Field("secure_key"),
        Field("payment", required=True),
        Field("total_discounts", "money"),
        Field("total_discounts_tax_incl", "money"),
        Field("total_discounts_tax_excl", "money"),
        Field("total_paid", "money", required=True),
        Field("total_paid_tax_incl", "money"),
        Field("total_paid_tax_excl", "money"),
        Field("total_paid_real", "money", required=True),
        Field("total_products", "money", required=True),
        Field("total_products_wt", "money", required=True),
        Field("total_shipping", "money"),
        Field("total_shipping_tax_incl", "money"),
        Field("total_shipping_tax_excl", "money"),
        Field("carrier_tax_rate", "float"),
        Field("round_mode", "int"),
        Field("round_type", "int"),
        Field("conversion_rate", "float", required=True),
        Field("reference"),
    ),
    (Association("order_rows", "order_row", None, ORDER_ROW_FIELDS),),
)

ORDER_HISTORIES = Resource(
    "order_histories",
    "order_history",
    "The Order histories",
    (
        ID,
        Field("id_employee", "id"),
        Field("id_order_state", "id", link="order_states", required=True),
        Field("id_order", "id", link="orders", required=True),
        Field("date_add", "date"),
    ),
)

PRODUCTS = Resource(
    "products",
    "product",
    "The products",
    (
        ID,
        Field("id_manufacturer", "id"),
        Field("id_category_default", "id"),
        Field("id_default_combination", "id", link="combinations"),
        Field("id_tax_rules_group", "id", link="tax_rule_groups"),
        # Read-only in PrestaShop (a getter and no setter): a PUT that sends them back is refused
        # with error 93, a trap every PrestaShop client meets (docs/prestashop-simulator.md).
        Field("manufacturer_name", writable=False),
        Field("quantity", "int", writable=False),
        Field("type"),
        Field("reference"),
        Field("ean13"),
        Field("state", "int"),
        Field("price", "money", required=True),
        Field("wholesale_price", "money"),
        Field("active", "bool"),
        Field("date_add", "date"),
        Field("date_upd", "date"),
        Field("name", "lang"),
        Field("link_rewrite", "lang"),
    ),
    (
        Association("combinations", "combination", "combinations"),
        Association(
            "stock_availables",
            "stock_available",
            "stock_availables",
            (Field("id_product_attribute", "id"),),
        ),
    ),
)

COMBINATIONS = Resource(
    "combinations",
    "combination",
    "The product combinations",
    (
        ID,
        Field("id_product", "id", link="products", required=True),
        Field("reference"),
        Field("ean13"),
        Field("wholesale_price", "money"),
        Field("price", "money"),  # the impact on the product's price, excl. VAT
        Field("minimal_quantity", "int", required=True),
        Field("default_on", "bool"),
    ),
)

STOCK_AVAILABLES = Resource(
    "stock_availables",
    "stock_available",
    "Available quantities of products",
    (
        ID,
        Field("id_product", "id", link="products", required=True),
        Field("id_product_attribute", "id", link="combinations", required=True),
        Field("id_shop", "id"),
        Field("id_shop_group", "id"),
        Field("quantity", "int", required=True),
        Field("depends_on_stock", "bool", required=True),
        Field("out_of_stock", "int", required=True),
        Field("location"),
    ),
    methods=NO_CREATE,
)

CUSTOMERS = Resource(
    "customers",
    "customer",
    "The e-shop's customers",
    (
        ID,
        Field("id_default_group", "id"),
        Field("id_lang", "id"),
        Field("deleted", "bool"),
        Field("passwd", required=True),  # hashed; Customer sets it through setWsPasswd
        Field("lastname", required=True),
        Field("firstname", required=True),
        Field("email", required=True),
        Field("id_gender", "id"),
        Field("company"),
        Field("siret"),
        Field("active", "bool"),
        Field("is_guest", "bool"),
        Field("date_add", "date"),
        Field("date_upd", "date"),
    ),
)

ADDRESSES = Resource(
    "addresses",
    "address",
    "The Customer, Brand and Customer addresses",
    (
        ID,
        Field("id_customer", "id", link="customers"),
        Field("id_country", "id", link="countries", required=True),
        Field("id_state", "id"),
        Field("alias", required=True),
        Field("company"),
        Field("lastname", required=True),
        Field("firstname", required=True),
        Field("vat_number"),
        Field("address1", required=True),
        Field("address2"),
        Field("postcode"),
        Field("city", required=True),
        Field("phone"),
        Field("phone_mobile"),
        Field("deleted", "bool"),
        Field("date_add", "date"),
        Field("date_upd", "date"),
    ),
)

COUNTRIES = Resource(
    "countries",
    "country",
    "The countries available on the shop",
    (
        ID,
        Field("id_zone", "id", required=True),
        Field("id_currency", "id"),
        Field("call_prefix", "int"),
        Field("iso_code", required=True),
        Field("active", "bool"),
        Field("contains_states", "bool", required=True),
        Field("need_identification_number", "bool", required=True),
        Field("need_zip_code", "bool"),
        Field("zip_code_format"),
        Field("display_tax_label", "bool", required=True),
        Field("name", "lang", required=True),
    ),
)

ORDER_STATES = Resource(
    "order_states",
    "order_state",
    "The Order states (Waiting for transfer, Payment accepted, ...)",
    (
        ID,
        Field("unremovable", "bool"),
        Field("delivery", "bool"),
        Field("hidden", "bool"),
        Field("send_email", "bool"),
        Field("module_name"),
        Field("invoice", "bool"),
        Field("color"),
        Field("logable", "bool"),
        Field("shipped", "bool"),
        Field("paid", "bool"),
        Field("deleted", "bool"),
        Field("name", "lang", required=True),
    ),
)

TAXES = Resource(
    "taxes",
    "tax",
    "The tax rate",
    (
        ID,
        Field("rate", "float", required=True),
        Field("active", "bool"),
        Field("deleted", "bool"),
        Field("name", "lang", required=True),
    ),
)

TAX_RULE_GROUPS = Resource(
    "tax_rule_groups",
    "tax_rule_group",
    "Group of Tax rule, along with their name",
    (
        ID,
        Field("name", required=True),
        Field("active", "bool"),
        Field("deleted", "bool"),
        Field("date_add", "date"),
        Field("date_upd", "date"),
    ),
)

TAX_RULES = Resource(
    "tax_rules",
    "tax_rule",
    "Tax rules, to associate Tax with a country, zip code, ...",
    (
        ID,
        Field("id_tax_rules_group", "id", link="tax_rule_groups", required=True),
        Field("id_state", "id"),
        Field("id_country", "id", link="countries", required=True),
        Field("zipcode_from"),
        Field("zipcode_to"),
        Field("id_tax", "id", link="taxes", required=True),
        Field("behavior", "int"),
        Field("description"),
    ),
)

CURRENCIES = Resource(
    "currencies",
    "currency",
    "The currencies installed on the shop",
    (
        ID,
        Field("name", required=True),
        Field("iso_code", required=True),
        Field("precision", "int"),
        Field("conversion_rate", "float", required=True),
        Field("deleted", "bool"),
        Field("active", "bool"),
    ),
)

RESOURCES: dict[str, Resource] = {
    r.name: r
    for r in (
        ADDRESSES,
        COMBINATIONS,
        COUNTRIES,
        CURRENCIES,
        CUSTOMERS,
        ORDER_HISTORIES,
        ORDER_STATES,
        ORDERS,
        PRODUCTS,
        STOCK_AVAILABLES,
        TAX_RULE_GROUPS,
        TAX_RULES,
        TAXES,
    )
}
