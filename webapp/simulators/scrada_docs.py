"""The documents the Scrada simulator serves: UBL 2.1 invoices (Peppol BIS Billing 3.0) and CODA 2
statements, real and valid, generated with the standard library only and deterministic from a seed.

Amounts are integer cents or `Decimal`, never floats: a total that is off by a cent is exactly the kind
of bug the simulator must not hide (or cause).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from xml.sax.saxutils import escape

CENT = Decimal("0.01")
UBL_CUSTOMIZATION = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
UBL_PROFILE = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"


# --- Belgian numbers -------------------------------------------------------------------------


def mod97(value: int) -> int:
    """The Belgian check digits (company numbers, bank accounts, structured references): 97 for 0."""
    return value % 97 or 97


def company_number(rng: random.Random) -> str:
    """A valid Belgian company number: 0 + 7 digits, then 97 − (those 8 digits mod 97)."""
    first8 = rng.randrange(2_000_000, 10_000_000)
    return f"{first8:08d}{97 - first8 % 97:02d}"


def is_company_number(number: str) -> bool:
    return len(number) == 10 and number.isdigit() and 97 - int(number[:8]) % 97 == int(number[8:])


def iban_check(country: str, bban: str) -> str:
    """ISO 13616 check digits: move the country and 00 to the end, letters as numbers, 98 − mod 97."""
    digits = "".join(str(int(char, 36)) for char in bban + country + "00")
    return f"{98 - int(digits) % 97:02d}"


def belgian_iban(rng: random.Random) -> str:
    account = rng.randrange(10**9, 10**10)  # bank code (3) + account (7), never starting with 0
    bban = f"{account:010d}{mod97(account):02d}"
    return f"BE{iban_check('BE', bban)}{bban}"


def structured_reference(value: int) -> str:
    """`+++123/4567/89012+++`: 10 digits and their mod-97 check."""
    base = value % 10**10
    digits = f"{base:010d}{mod97(base):02d}"
    return f"+++{digits[:3]}/{digits[3:7]}/{digits[7:]}+++"


# --- parties ---------------------------------------------------------------------------------

CITIES = (
    ("1000", "Bruxelles"),
    ("4000", "Liège"),
    ("5000", "Namur"),
    ("6000", "Charleroi"),
    ("7000", "Mons"),
    ("1300", "Wavre"),
    ("1348", "Louvain-la-Neuve"),
    ("6700", "Arlon"),
    ("9000", "Gent"),
    ("2000", "Antwerpen"),
)
STREETS = (
    "Rue de la Station",
    "Rue Haute",
    "Place du Marché",
    "Chaussée de Namur",
    "Rue des Carmes",
    "Avenue des Tilleuls",
    "Grand-Rue",
    "Rue du Moulin",
)
SHOP_KINDS = ("Boulangerie", "Fromagerie", "Librairie", "Cave", "Épicerie", "Fleurs", "Café")
SURNAMES = ("Dupont", "Lambert", "Dubois", "Martin", "Peeters", "Janssens", "Leclercq", "Renard")
SUPPLIERS = (
    "Grossiste Horeca Wallonie sa",
    "Moulins de Sambre srl",
    "Brasserie du Val sa",
    "Emballages Meuse srl",
    "Café Torréfaction Ardennaise sa",
    "Papeterie Centrale srl",
)


@dataclass(frozen=True)
class Party:
    name: str
    number: str  # Belgian company number, 10 digits
    street: str
    postcode: str
    city: str
    email: str
    iban: str

    @property
    def vat(self) -> str:
        return f"BE{self.number}"


def shop_name(rng: random.Random) -> str:
    return f"{rng.choice(SHOP_KINDS)} {rng.choice(SURNAMES)}"


def make_party(rng: random.Random, name: str) -> Party:
    postcode, city = rng.choice(CITIES)
    slug = "".join(char for char in name.lower() if char.isascii() and char.isalnum())[:20]
    return Party(
        name=name,
        number=company_number(rng),
        street=f"{rng.choice(STREETS)} {rng.randint(1, 120)}",
        postcode=postcode,
        city=city,
        email=f"info@{slug or 'shop'}.example.be",
        iban=belgian_iban(rng),
    )


def supplier_party(rng: random.Random) -> Party:
    return make_party(rng, rng.choice(SUPPLIERS))


# --- UBL -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    name: str
    quantity: int
    unit_price: Decimal  # excluding VAT, 2 decimals
    rate: int  # VAT percent; every generated line is standard-rated (category S)

    @property
    def amount(self) -> Decimal:
        return (self.unit_price * self.quantity).quantize(CENT)


# Daily sales of a small shop (prices excluding VAT); Belgian rates 6, 12 and 21 %.
SHOP_ITEMS = (
    ("Pain de campagne", 6, "3.40"),
    ("Croissant", 6, "1.15"),
    ("Tarte aux pommes", 6, "14.50"),
    ("Fromage de Herve", 6, "6.80"),
    ("Livre de poche", 6, "9.43"),
    ("Bouquet de saison", 6, "18.00"),
    ("Repas sur place", 12, "15.90"),
    ("Vin rouge 75 cl", 21, "10.66"),
    ("Bière d'abbaye 33 cl", 21, "2.07"),
    ("Bougie parfumée", 21, "8.22"),
    ("Carte de vœux", 21, "2.89"),
)
SUPPLY_ITEMS = (
    ("Farine T65, sac 25 kg", 6, "21.40"),
    ("Café en grains 1 kg", 6, "17.90"),
    ("Beurre 1 kg", 6, "9.85"),
    ("Sacs kraft, carton de 500", 21, "34.00"),
    ("Casier bière 24 × 25 cl", 21, "19.30"),
    ("Rouleaux caisse, boîte de 50", 21, "27.50"),
)


def _pick_lines(
    rng: random.Random, catalog: Sequence[tuple[str, int, str]], quantities: tuple[int, int]
) -> list[Line]:
    chosen = rng.sample(list(catalog), rng.randint(2, 5))
    return [
        Line(name, rng.randint(*quantities), Decimal(price), rate) for name, rate, price in chosen
    ]


def _money(value: Decimal) -> str:
    return f'currencyID="EUR">{value:.2f}'


def _party_xml(party: Party, *, consumer: bool = False) -> str:
    name = escape(party.name)
    if consumer:
        # Daily receipts are sales to anonymous consumers: BIS still requires a buyer endpoint,
        # so it is an e-mail address (scheme EM) and the party has no VAT or company number.
        endpoint = f'<cbc:EndpointID schemeID="EM">{escape(party.email)}</cbc:EndpointID>'
        tax = ""
        legal = f"<cac:PartyLegalEntity><cbc:RegistrationName>{name}</cbc:RegistrationName></cac:PartyLegalEntity>"
    else:
        endpoint = f'<cbc:EndpointID schemeID="0208">{party.number}</cbc:EndpointID>'
        tax = (
            f"<cac:PartyTaxScheme><cbc:CompanyID>{party.vat}</cbc:CompanyID>"
            "<cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>"
        )
        legal = (
            f"<cac:PartyLegalEntity><cbc:RegistrationName>{name}</cbc:RegistrationName>"
            f'<cbc:CompanyID schemeID="0208">{party.number}</cbc:CompanyID></cac:PartyLegalEntity>'
        )
    street = f"<cbc:StreetName>{escape(party.street)}</cbc:StreetName>" if party.street else ""
    return (
        f"<cac:Party>{endpoint}<cac:PartyName><cbc:Name>{name}</cbc:Name></cac:PartyName>"
        f"<cac:PostalAddress>{street}<cbc:CityName>{escape(party.city)}</cbc:CityName>"
        f"<cbc:PostalZone>{party.postcode}</cbc:PostalZone>"
        "<cac:Country><cbc:IdentificationCode>BE</cbc:IdentificationCode></cac:Country></cac:PostalAddress>"
        f"{tax}{legal}<cac:Contact><cbc:ElectronicMail>{escape(party.email)}</cbc:ElectronicMail></cac:Contact>"
        "</cac:Party>"
    )


def _tax_category(rate: int) -> str:
    return (
        f"<cbc:ID>S</cbc:ID><cbc:Percent>{rate}.00</cbc:Percent>"
        "<cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme>"
    )


def invoice_xml(
    *,
    number: str,
    issue: date,
    due: date,
    supplier: Party,
    customer: Party,
    consumer: bool,
    lines: Sequence[Line],
    payment_means: str,
    note: str = "",
    period: date | None = None,
) -> bytes:
    """A UBL 2.1 `Invoice` in Peppol BIS 3.0 style, shaped like the ones Scrada generates."""
    taxable: dict[int, Decimal] = {}
    for line in lines:
        taxable[line.rate] = taxable.get(line.rate, Decimal(0)) + line.amount
    # BR-CO-17: each rate's VAT is its taxable base × rate, rounded once (not per line).
    vat = {
        rate: (base * rate / 100).quantize(CENT, ROUND_HALF_UP) for rate, base in taxable.items()
    }
    net = sum((line.amount for line in lines), Decimal(0))
    vat_total = sum(vat.values(), Decimal(0))
    gross = net + vat_total
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Invoice xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2" '
        'xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2" '
        'xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">',
        f"<cbc:CustomizationID>{UBL_CUSTOMIZATION}</cbc:CustomizationID>",
        f"<cbc:ProfileID>{UBL_PROFILE}</cbc:ProfileID>",
        f"<cbc:ID>{escape(number)}</cbc:ID>",
        f"<cbc:IssueDate>{issue.isoformat()}</cbc:IssueDate>",
        f"<cbc:DueDate>{due.isoformat()}</cbc:DueDate>",
        "<cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>",
        f"<cbc:Note>{escape(note)}</cbc:Note>" if note else "",
        "<cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>",
        (
            f"<cac:InvoicePeriod><cbc:StartDate>{period.isoformat()}</cbc:StartDate>"
            f"<cbc:EndDate>{period.isoformat()}</cbc:EndDate></cac:InvoicePeriod>"
            if period
            else ""
        ),
        "<cac:OrderReference><cbc:ID>NA</cbc:ID></cac:OrderReference>",
        f"<cac:AccountingSupplierParty>{_party_xml(supplier)}</cac:AccountingSupplierParty>",
        f"<cac:AccountingCustomerParty>{_party_xml(customer, consumer=consumer)}</cac:AccountingCustomerParty>",
        payment_means,
        f"<cac:TaxTotal><cbc:TaxAmount {_money(vat_total)}</cbc:TaxAmount>",
    ]
    for rate in sorted(taxable):
        parts.append(
            f"<cac:TaxSubtotal><cbc:TaxableAmount {_money(taxable[rate])}</cbc:TaxableAmount>"
            f"<cbc:TaxAmount {_money(vat[rate])}</cbc:TaxAmount>"
            f"<cac:TaxCategory>{_tax_category(rate)}</cac:TaxCategory></cac:TaxSubtotal>"
        )
    parts.append(
        "</cac:TaxTotal><cac:LegalMonetaryTotal>"
        f"<cbc:LineExtensionAmount {_money(net)}</cbc:LineExtensionAmount>"
        f"<cbc:TaxExclusiveAmount {_money(net)}</cbc:TaxExclusiveAmount>"
        f"<cbc:TaxInclusiveAmount {_money(gross)}</cbc:TaxInclusiveAmount>"
        f"<cbc:AllowanceTotalAmount {_money(Decimal(0))}</cbc:AllowanceTotalAmount>"
        f"<cbc:ChargeTotalAmount {_money(Decimal(0))}</cbc:ChargeTotalAmount>"
        f"<cbc:PrepaidAmount {_money(Decimal(0))}</cbc:PrepaidAmount>"
        f"<cbc:PayableRoundingAmount {_money(Decimal(0))}</cbc:PayableRoundingAmount>"
        f"<cbc:PayableAmount {_money(gross)}</cbc:PayableAmount>"
        "</cac:LegalMonetaryTotal>"
    )
    for index, line in enumerate(lines, start=1):
        parts.append(
            f"<cac:InvoiceLine><cbc:ID>{index}</cbc:ID>"
            f'<cbc:InvoicedQuantity unitCode="C62">{line.quantity}.0000</cbc:InvoicedQuantity>'
            f"<cbc:LineExtensionAmount {_money(line.amount)}</cbc:LineExtensionAmount>"
            f"<cac:Item><cbc:Name>{escape(line.name)}</cbc:Name>"
            f"<cac:ClassifiedTaxCategory>{_tax_category(line.rate)}</cac:ClassifiedTaxCategory></cac:Item>"
            f'<cac:Price><cbc:PriceAmount currencyID="EUR">{line.unit_price:.4f}</cbc:PriceAmount></cac:Price>'
            "</cac:InvoiceLine>"
        )
    parts.append("</Invoice>\n")
    return "".join(parts).encode("utf-8")


def consumers(shop: Party) -> Party:
    """The buyer of a daily-receipts invoice: the shop's walk-in customers."""
    return Party("Clients particuliers", "", "", shop.postcode, shop.city, shop.email, "")


def daily_receipts_invoice(seed: int, shop: Party, day: date, number: str) -> bytes:
    """One day of a shop's register sales as the invoice Scrada generates for the journal."""
    rng = random.Random(seed)
    return invoice_xml(
        number=number,
        issue=day,
        due=day,
        supplier=shop,
        customer=consumers(shop),
        consumer=True,
        lines=_pick_lines(rng, SHOP_ITEMS, (3, 60)),
        payment_means="<cac:PaymentMeans><cbc:PaymentMeansCode>10</cbc:PaymentMeansCode></cac:PaymentMeans>",
        note=f"Recettes du {day:%d/%m/%Y}",
        period=day,
    )


def peppol_invoice(seed: int, supplier: Party, customer: Party, day: date) -> bytes:
    """A supplier's invoice to the company, as it arrives over Peppol."""
    rng = random.Random(seed)
    reference = structured_reference(rng.randrange(10**10))
    return invoice_xml(
        number=f"F{day:%Y}-{rng.randint(1, 99999):05d}",
        issue=day,
        due=day + timedelta(days=30),
        supplier=supplier,
        customer=customer,
        consumer=False,
        lines=_pick_lines(rng, SUPPLY_ITEMS, (1, 12)),
        payment_means=(
            "<cac:PaymentMeans><cbc:PaymentMeansCode>30</cbc:PaymentMeansCode>"
            f"<cbc:PaymentID>{reference}</cbc:PaymentID>"
            f"<cac:PayeeFinancialAccount><cbc:ID>{supplier.iban}</cbc:ID></cac:PayeeFinancialAccount>"
            "</cac:PaymentMeans><cac:PaymentTerms><cbc:Note>30 jours date de facture</cbc:Note></cac:PaymentTerms>"
        ),
    )


# --- CODA ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Movement:
    cents: int  # > 0 credit (money in), < 0 debit (money out)
    text: str
    counterparty_account: str
    counterparty_name: str


CREDIT_CODE = "00950000"  # type 0, family 09 (counter transactions), 50 cash deposit
DEBIT_CODE = "00901000"  # type 0, family 09, 01 cash withdrawal


def cash_movements(rng: random.Random, balance: int, day: date, shop: Party) -> list[Movement]:
    """A day in a shop's till: the takings, sometimes a deposit at the bank or a small purchase.
    The balance never goes below zero, as a real till's cannot."""
    takings = rng.randint(150_00, 900_00)
    moves = [Movement(takings, f"RECETTES CAISSE {day:%d/%m/%Y}", "", shop.name)]
    balance += takings
    if balance > 1000_00 and rng.random() < 0.7:
        deposit = balance - balance % 100_00 - 200_00
        moves.append(Movement(-deposit, "VERSEMENT BANQUE", shop.iban, shop.name))
        balance -= deposit
    if rng.random() < 0.4:
        purchase = min(rng.randint(5_00, 60_00), balance)
        moves.append(Movement(-purchase, "ACHAT PETIT MATERIEL", "", "Fournisseur divers"))
    return moves


def _text(value: str, width: int) -> str:
    # CODA is latin-1: anything else would change the record length once encoded.
    value = value.encode("latin-1", "replace").decode("latin-1")
    return value[:width].ljust(width)


def _num(value: int, width: int) -> str:
    return f"{value:0{width}d}"


def _amount(cents: int) -> str:
    """Sign (0 credit, 1 debit) and 15 digits with 3 implied decimals."""
    return ("1" if cents < 0 else "0") + _num(abs(cents) * 10, 15)


def _ddmmyy(day: date) -> str:
    return day.strftime("%d%m%y")


def coda_statement(
    *,
    day: date,
    previous_day: date,
    sequence: int,
    holder: Party,
    iban: str,
    account_name: str,
    old_balance: int,
    movements: Sequence[Movement],
) -> bytes:
    """One CODA 2 statement (records 0, 1, 2.1–2.3 per movement, 8, 9), CRLF, latin-1."""
    seq = _num(sequence % 1000, 3)
    account = _text(iban, 34) + "EUR"
    holder_name = _text(holder.name, 26)
    new_balance = old_balance + sum(move.cents for move in movements)
    records = [
        "0"
        + "0000"
        + _ddmmyy(day)
        + "000"  # bank identification: none, this is a till
        + "05"
        + " "
        + " " * 7
        + _text(f"S{sequence:09d}", 10)
        + holder_name
        + _text("", 11)
        + "0"
        + holder.number
        + " "
        + "00000"
        + _text("", 16)
        + _text("", 16)
        + " " * 7
        + "2",
        "1"
        + "2"  # account structure 2: Belgian IBAN, padded to 34, then the currency
        + seq
        + account
        + _amount(old_balance)
        + _ddmmyy(previous_day)
        + holder_name
        + _text(account_name, 35)
        + seq,
    ]
    debits = credits = 0
    for index, move in enumerate(movements, start=1):
        if move.cents < 0:
            debits -= move.cents
        else:
            credits += move.cents
        number = _num(index, 4) + "0000"
        records.append(
            "21"
            + number
            + _text(f"{day:%Y%m%d}{sequence:06d}{index:04d}", 21)
            + _amount(move.cents)
            + _ddmmyy(day)
            + (DEBIT_CODE if move.cents < 0 else CREDIT_CODE)
            + "0"
            + _text(move.text, 53)
            + _ddmmyy(day)
            + seq
            + "0"  # globalisation code
            + "1"  # a 2.2 record follows
            + " "
            + "0"  # no 3.x record
        )
        records.append(
            "22" + number + _text("", 53) + _text("", 35) + _text("", 11) + " " * 16 + "1" + " 0"
        )
        records.append(
            "23"
            + number
            + _text(move.counterparty_account, 34)
            + ("EUR" if move.counterparty_account else "   ")
            + _text(move.counterparty_name, 35)
            + _text("", 43)
            + "0 0"
        )
    records.append("8" + seq + account + _amount(new_balance) + _ddmmyy(day) + " " * 64 + "0")
    count = len(records) - 1  # records 1, 2.x and 8: neither 0 nor 9
    records.append(
        "9"
        + " " * 15
        + _num(count, 6)
        + _num(debits * 10, 15)
        + _num(credits * 10, 15)
        + " " * 75
        + "1"
    )
    for record in records:
        assert len(record) == 128, record
    return ("\r\n".join(records) + "\r\n").encode("latin-1")


def minimal_pdf(text: str) -> bytes:
    """A small valid one-page PDF showing `text`: the body of a purchase invoice sent as PDF."""
    safe = text.encode("latin-1", "replace").replace(b"\\", b"\\\\")
    safe = safe.replace(b"(", b"\\(").replace(b")", b"\\)")
    stream = b"BT /F1 12 Tf 72 720 Td (" + safe + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)
