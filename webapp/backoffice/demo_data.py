"""The demonstration estate: a Burgundy wine estate with a shop, a web shop and two registers.

Data only; :mod:`webapp.backoffice.demo` writes it. Identifiers carry valid check digits.
"""

from __future__ import annotations

from dataclasses import dataclass

from webapp.backoffice.identifiers import be_vat_number, fr_vat_number

# --- The estate -----------------------------------------------------------------------------

COMPANY = {
    "name": "Domaine des Trois Chênes",
    "company_number": "832147656",
    "address": "2 rue des Tonneliers",
    "postcode": "21190",
    "city": "Meursault",
    "country": "FR",
}
ARTICLE_FAMILIES = (
    ("ROUGE", "Vins rouges"),
    ("BLANC", "Vins blancs"),
    ("CREM", "Crémants"),
    ("MIEL", "Miels"),
    ("EPIC", "Épicerie fine"),
    ("COFF", "Coffrets et cadeaux"),
    ("SERV", "Services"),
)
PARTY_FAMILIES = (
    ("customer", "PART", "Particuliers"),
    ("customer", "PRO", "Professionnels"),
    ("supplier", "FOUR", "Fournisseurs"),
)
CARRIERS = (("TBE", "Transports Bourguignons Express"), ("COLIS", "Colissimo"))
BARCODE_PREFIX = "376014582"  # a GS1 France company prefix for the estate's own products


@dataclass(frozen=True)
class Article:
    code: str
    label: str
    family: str
    unit: str
    vat: str
    price_incl_vat: str  # shop price, including VAT
    pro_price: str  # "Professionnels" price, excluding VAT
    stock: str = "0"
    tags: str = ""
    barcode: bool = False
    export: bool = True


# code | label | family | unit | VAT | shop price incl. VAT | "Professionnels" price excl. VAT |
# stock | tags | flags ("ean": has a barcode, "no-export": not sent to connectors)
_ARTICLES = """
RBPN22 | Bourgogne Pinot Noir 2022 75 cl                         | ROUGE | BT  | FR20  | 16.50  | 10.90  | 480  | pub rouge               | ean
RBPNMG | Bourgogne Pinot Noir 2022 Magnum 150 cl                 | ROUGE | BT  | FR20  | 36.00  | 24.00  | 40   | rouge magnum cadeau     | ean
RHCN21 | Bourgogne Hautes-Côtes de Nuits 2021 75 cl              | ROUGE | BT  | FR20  | 21.00  | 13.90  | 240  | pub rouge               | ean
RPTG23 | Bourgogne Passetoutgrains 2023 75 cl                    | ROUGE | BT  | FR20  | 11.90  | 7.80   | 300  | rouge                   | ean
RIRA22 | Irancy 2022 75 cl                                       | ROUGE | BT  | FR20  | 18.50  | 12.20  | 120  | rouge                   |
RMER21 | Mercurey 2021 75 cl                                     | ROUGE | BT  | FR20  | 24.00  | 15.90  | 180  | pub rouge               | ean
RSAN21 | Santenay 2021 75 cl                                     | ROUGE | BT  | FR20  | 27.50  | 18.20  | 150  | rouge                   |
RPOM20 | Pommard 2020 75 cl                                      | ROUGE | BT  | FR20  | 49.00  | 32.50  | 90   | rouge garde             | ean
RVOL21 | Volnay 2021 75 cl                                       | ROUGE | BT  | FR20  | 46.00  | 30.50  | 72   | rouge garde             |
RGEV20 | Gevrey-Chambertin 2020 75 cl                            | ROUGE | BT  | FR20  | 58.00  | 38.50  | 96   | pub rouge garde         | ean
RNSG19 | Nuits-Saint-Georges 1er cru Les Vaucrains 2019 75 cl    | ROUGE | BT  | FR20  | 79.00  | 52.00  | 36   | rouge garde premier-cru |
BALI23 | Bourgogne Aligoté 2023 75 cl                            | BLANC | BT  | FR20  | 12.50  | 8.20   | 360  | pub blanc               | ean
BCHA22 | Bourgogne Chardonnay 2022 75 cl                         | BLANC | BT  | FR20  | 17.00  | 11.20  | 420  | pub blanc               | ean
BMAC23 | Mâcon-Villages 2023 75 cl                               | BLANC | BT  | FR20  | 14.50  | 9.50   | 240  | blanc                   |
BSVE22 | Saint-Véran 2022 75 cl                                  | BLANC | BT  | FR20  | 21.50  | 14.20  | 180  | blanc                   |
BRUL22 | Rully blanc 2022 75 cl                                  | BLANC | BT  | FR20  | 25.00  | 16.50  | 120  | blanc                   |
BCHB22 | Chablis 2022 75 cl                                      | BLANC | BT  | FR20  | 22.00  | 14.50  | 300  | pub blanc               | ean
BCHM21 | Chablis 1er cru Montmains 2021 75 cl                    | BLANC | BT  | FR20  | 34.00  | 22.50  | 120  | blanc premier-cru       | ean
BMEU21 | Meursault 2021 75 cl                                    | BLANC | BT  | FR20  | 62.00  | 41.00  | 60   | pub blanc garde         | ean
BPUL20 | Puligny-Montrachet 2020 75 cl                           | BLANC | BT  | FR20  | 85.00  | 56.00  | 24   | blanc garde             |
CBRU   | Crémant de Bourgogne Brut 75 cl                         | CREM  | BT  | FR20  | 13.90  | 9.10   | 600  | pub fete                | ean
CBDB   | Crémant de Bourgogne Blanc de Blancs 75 cl              | CREM  | BT  | FR20  | 16.90  | 11.10  | 300  | fete                    | ean
CROS   | Crémant de Bourgogne Rosé 75 cl                         | CREM  | BT  | FR20  | 15.50  | 10.20  | 240  | pub fete                | ean
CEXB19 | Crémant de Bourgogne Extra Brut millésime 2019 75 cl    | CREM  | BT  | FR20  | 22.00  | 14.50  | 120  | fete                    |
CBRUMG | Crémant de Bourgogne Brut Magnum 150 cl                 | CREM  | BT  | FR20  | 32.00  | 21.00  | 30   | fete magnum cadeau      |
MACA25 | Miel d'acacia 250 g                                     | MIEL  | U   | FR5.5 | 7.50   | 5.20   | 120  | pub miel                | ean
MACA50 | Miel d'acacia 500 g                                     | MIEL  | U   | FR5.5 | 12.90  | 9.00   | 90   | miel                    | ean
MFLE50 | Miel de fleurs de Bourgogne 500 g                       | MIEL  | U   | FR5.5 | 10.50  | 7.30   | 110  | pub miel                | ean
MSAP50 | Miel de sapin du Morvan 500 g                           | MIEL  | U   | FR5.5 | 13.50  | 9.40   | 60   | miel                    |
MVRAC  | Miel de fleurs en vrac (au kilo)                        | MIEL  | KG  | FR5.5 | 18.00  | 12.50  | 25.5 | miel vrac               | no-export
EMOU   | Moutarde de Dijon à l'ancienne 210 g                    | EPIC  | U   | FR5.5 | 4.20   | 2.90   | 200  | epicerie                |
EPAI   | Pain d'épices au miel 400 g                             | EPIC  | U   | FR5.5 | 7.90   | 5.50   | 80   | epicerie miel           |
EESC   | Escargots de Bourgogne, la douzaine                     | EPIC  | U   | FR5.5 | 9.90   | 6.90   | 60   | epicerie                |
EJAM   | Jambon persillé 300 g                                   | EPIC  | U   | FR5.5 | 11.50  | 8.00   | 30   | epicerie frais          | no-export
ECAS   | Crème de cassis de Dijon 50 cl                          | EPIC  | BT  | FR20  | 19.50  | 13.00  | 100  | pub epicerie            |
EANI   | Bonbons à l'anis, boîte de 50 g                         | EPIC  | U   | FR5.5 | 3.50   | 2.40   | 150  | epicerie                |
KDEC3  | Coffret découverte 3 bouteilles (rouge, blanc, crémant) | COFF  | LOT | FR20  | 49.00  | 33.00  | 40   | pub cadeau              | ean
KCDN6  | Coffret Côte de Nuits 6 bouteilles                      | COFF  | CT  | FR20  | 189.00 | 126.00 | 15   | cadeau garde            |
KGOUR  | Coffret gourmand miel et moutarde                       | COFF  | LOT | FR5.5 | 24.90  | 17.50  | 35   | pub cadeau miel         | ean
KVERRE | Verre de dégustation gravé au domaine                   | COFF  | U   | FR20  | 6.00   | 4.00   | 200  | cadeau                  |
SDEG   | Dégustation commentée (par personne)                    | SERV  | U   | FR20  | 15.00  | 12.00  | 0    | oenotourisme            | no-export
SVIS   | Visite des caves et dégustation (par personne)          | SERV  | U   | FR20  | 25.00  | 20.00  | 0    | oenotourisme            | no-export
SATE   | Atelier accords mets et vins (par personne)             | SERV  | U   | FR20  | 45.00  | 32.00  | 0    | oenotourisme            | no-export
SLIV21 | Livraison Côte-d'Or et Saône-et-Loire                   | SERV  | U   | FR20  | 12.00  | 8.00   | 0    | livraison               |
SLIVFR | Livraison France métropolitaine                         | SERV  | U   | FR20  | 19.90  | 16.00  | 0    | livraison               |
SLIVBE | Livraison Belgique                                      | SERV  | U   | FR20  | 29.90  | 24.00  | 0    | livraison               |
"""


def _article(row: str) -> Article:
    code, label, family, unit, vat, price, pro, stock, tags, flags = (
        cell.strip() for cell in row.split("|")
    )
    return Article(
        code, label, family, unit, vat, price, pro, stock, tags,
        barcode="ean" in flags.split(), export="no-export" not in flags.split(),
    )  # fmt: skip


ARTICLES = tuple(_article(row) for row in _ARTICLES.strip().splitlines())


@dataclass(frozen=True)
class Party:
    code: str
    family: str
    last_name: str
    first_name: str
    address: str
    postcode: str
    city: str
    country: str = "FR"
    company: str = ""
    vat_id: str = ""  # a SIREN (FR) or the first 8 digits of a Belgian company number
    phone: str = ""
    contacts: tuple[tuple[str, str, str], ...] = ()  # (first name, last name, role)

    @property
    def vat_number(self) -> str:
        if not self.vat_id:
            return ""
        return be_vat_number(self.vat_id) if self.country == "BE" else fr_vat_number(self.vat_id)


CUSTOMERS = (
    Party("MARJE", "PART", "Martin", "Jeanne", "14 rue de la Liberté", "21000", "Dijon", phone="03 80 41 22 17"),
    Party("LEFPI", "PART", "Lefebvre", "Pierre", "3 place Carnot", "21200", "Beaune", phone="03 80 22 48 09"),
    Party("BERSO", "PART", "Bernard", "Sophie", "8 rue Paul Cabet", "21700", "Nuits-Saint-Georges"),
    Party("DURMI", "PART", "Durand", "Michel", "27 avenue de la République", "71100", "Chalon-sur-Saône", phone="03 85 48 90 12"),
    Party("PETIS", "PART", "Petit", "Isabelle", "5 rue Gambetta", "89000", "Auxerre"),
    Party("MORNI", "PART", "Moreau", "Nicolas", "12 rue des Poilus", "89800", "Chablis"),
    Party("GIRCA", "PART", "Girard", "Catherine", "41 quai Lamartine", "71000", "Mâcon", phone="03 85 38 11 64"),
    Party("ROUFR", "PART", "Roux", "François", "9 rue Monge", "21160", "Marsannay-la-Côte"),
    Party("ROUMA", "PART", "Rousseau", "Marie", "22 avenue Jean Jaurès", "21000", "Dijon"),
    Party("FAULA", "PART", "Faure", "Laurent", "6 rue d'Alsace", "21200", "Beaune"),
    Party("FOUHE", "PART", "Fournier", "Hélène", "18 rue du Faubourg Saint-Antoine", "75011", "Paris", phone="01 43 57 21 88"),
    Party("MERJU", "PART", "Mercier", "Julien", "62 rue de Rivoli", "75004", "Paris"),
    Party("BLACA", "PART", "Blanc", "Camille", "7 rue Lepic", "75018", "Paris", phone="06 12 45 78 90"),
    Party("GARAN", "PART", "Garnier", "Antoine", "33 boulevard Voltaire", "75011", "Paris"),
    Party("CHEEL", "PART", "Chevalier", "Élodie", "15 rue de Vaugirard", "75006", "Paris", phone="06 71 23 45 02"),
    Party("LAMTH", "PART", "Lambert", "Thomas", "4 rue des Martyrs", "75009", "Paris"),
    Party("DUBMA", "PART", "Dubois", "Marc", "Avenue Louise 120", "1050", "Ixelles", "BE", phone="+32 2 640 18 77"),
    Party("JANSA", "PART", "Janssens", "Sarah", "Rue de la Station 14", "5000", "Namur", "BE"),
    Party("CEPOR", "PRO", "Perrin", "Olivier", "10 rue d'Alsace", "21200", "Beaune", company="Restaurant Le Cep d'Or", vat_id="412785933", phone="03 80 24 71 30",
          contacts=(("Olivier", "Perrin", "Chef sommelier"), ("Nathalie", "Perrin", "Gérante"))),
    Party("BISHA", "PRO", "Gauthier", "Luc", "2 rue Bannelier", "21000", "Dijon", company="Bistrot des Halles", vat_id="528963143", phone="03 80 30 52 44",
          contacts=(("Luc", "Gauthier", "Gérant"),)),
    Party("TABVI", "PRO", "Morel", "Sandrine", "1 place de l'Hôtel de Ville", "21190", "Meursault", company="La Table du Vigneron", vat_id="790314520",
          contacts=(("Sandrine", "Morel", "Cheffe"), ("Kevin", "Robin", "Sommelier"))),
    Party("CAVSV", "PRO", "Henry", "Patrick", "5 place Saint-Vincent", "71100", "Chalon-sur-Saône", company="Cave Saint-Vincent", vat_id="884123068", phone="03 85 93 20 15",
          contacts=(("Patrick", "Henry", "Caviste"),)),
    Party("HOTCM", "PRO", "Vidal", "Claire", "14 rue du Faubourg Saint-Nicolas", "21200", "Beaune", company="Hôtel du Clos Saint-Martin", vat_id="493277180",
          contacts=(("Claire", "Vidal", "Directrice"), ("Yann", "Leroy", "Chef de rang"))),
    Party("COMVI", "PRO", "Marchand", "Aurélien", "28 rue Oberkampf", "75011", "Paris", company="Le Comptoir des Vignes", vat_id="517640298", phone="01 48 06 33 72",
          contacts=(("Aurélien", "Marchand", "Caviste"),)),
    Party("PETCL", "PRO", "Nguyen", "Linh", "9 rue de Bretagne", "75003", "Paris", company="Le Petit Climat", vat_id="802455170",
          contacts=(("Linh", "Nguyen", "Cheffe"), ("Hugo", "Masson", "Sommelier"))),
    Party("CAVBU", "PRO", "Lemaire", "Benoît", "40 rue des Abbesses", "75018", "Paris", company="Caves de la Butte", vat_id="903188423"),
    Party("VINTE", "PRO", "Peeters", "Jan", "Rue du Bailli 45", "1050", "Ixelles", "BE", company="Vins & Terroirs SRL", vat_id="04567812", phone="+32 2 538 14 90",
          contacts=(("Jan", "Peeters", "Acheteur"),)),
    Party("DRUIF", "PRO", "De Smet", "Els", "Veldstraat 12", "9000", "Gent", "BE", company="Wijnhuis De Druif BV", vat_id="07012345",
          contacts=(("Els", "De Smet", "Zaakvoerder"),)),
    Party("CAVLG", "PRO", "Lambotte", "Didier", "Rue Pont d'Avroy 20", "4000", "Liège", "BE", company="La Cave de Liège SRL", vat_id="08234561"),
)  # fmt: skip

SUPPLIERS = (
    Party("BOUCO", "FOUR", "Rebourg", "Alain", "4 rue de l'Industrie", "21700", "Nuits-Saint-Georges", company="Bouchages de la Côte", vat_id="445901838", phone="03 80 61 09 33"),
    Party("VERMO", "FOUR", "Guillot", "Martine", "Zone artisanale des Chaumes", "58140", "Lormes", company="Verrerie du Morvan", vat_id="533709218"),
    Party("TBEXP", "FOUR", "Colin", "Stéphane", "12 rue Lavoisier", "21800", "Chevigny-Saint-Sauveur", company="Transports Bourguignons Express", vat_id="811667344", phone="03 80 46 72 18"),
    Party("RUCHE", "FOUR", "Lefèvre", "Marc", "Chemin des Ruchers", "21700", "Arcenant", company="Rucher des Hautes-Côtes", vat_id="799025432"),
)  # fmt: skip

REGISTERS = ((1, "Caisse boutique", "BOU"), (2, "Caisse salon des vins", "SAL"))
USERS = (
    ("CLAIRE", "Claire Morel", (1, 2)),
    ("HUGO", "Hugo Bernard", (1,)),
    ("LEA", "Léa Fontaine", (2,)),
)

# (kind, days ago, customer code or None, price list, [(article, quantity)], payments, origin)
# Price lists: "shop" = shop prices incl. VAT, "pro" = professional prices excl. VAT,
# "pro-eu" = professional prices excl. VAT, intra-EU supply exempt from French VAT (FR0).
Sale = tuple[
    str, int, str | None, str, list[tuple[str, str]], list[tuple[str, str]], tuple[str, str] | None
]
SALES: tuple[Sale, ...] = (
    ("order", 34, "FOUHE", "shop", [("RGEV20", "2"), ("BMEU21", "2"), ("SLIVFR", "1")], [("CARD", "all")], ("econnector:SHOP", "CW_0000118")),
    ("order", 30, "CEPOR", "pro", [("RBPN22", "36"), ("BCHA22", "24"), ("CBRU", "24")], [], None),
    ("delivery", 27, "CEPOR", "pro", [("RBPN22", "36"), ("BCHA22", "24"), ("CBRU", "24")], [("TRANSFER", "all")], None),
    ("delivery", 26, None, "shop", [("CBRU", "2"), ("MACA50", "1"), ("EMOU", "2")], [("CASH", "all")], ("pos:1", "BOU-000101")),
    ("order", 23, "BLACA", "shop", [("KDEC3", "2"), ("SLIVFR", "1")], [("CARD", "all")], ("econnector:SHOP", "CW_0000121")),
    ("delivery", 21, None, "shop", [("SDEG", "4"), ("RMER21", "6"), ("KVERRE", "4")], [("CARD", "all")], ("pos:1", "BOU-000102")),
    ("order", 19, "VINTE", "pro-eu", [("RPOM20", "12"), ("RVOL21", "12"), ("BCHM21", "24")], [("TRANSFER", "500.00")], None),
    ("delivery", 17, None, "shop", [("CBRUMG", "1"), ("CROS", "6"), ("EANI", "3")], [("CASH", "50.00"), ("CARD", "rest")], ("pos:2", "SAL-000012")),
    ("delivery", 17, None, "shop", [("MVRAC", "1.250"), ("EPAI", "1")], [("CASH", "all")], ("pos:2", "SAL-000013")),
    ("order", 14, "COMVI", "pro", [("BALI23", "60"), ("RPTG23", "60"), ("CBDB", "30")], [], ("econnector:SHOP", "CW_0000127")),
    ("delivery", 12, "BISHA", "pro", [("RHCN21", "24"), ("BMAC23", "24"), ("SLIV21", "1")], [("CHEQUE", "all")], None),
    ("order", 9, "MARJE", "shop", [("KGOUR", "3"), ("MFLE50", "2")], [("CARD", "all")], ("econnector:SHOP", "CW_0000131")),
    ("delivery", 6, "TABVI", "pro", [("BMEU21", "12"), ("BPUL20", "6"), ("RGEV20", "12")], [], None),
    ("delivery", 3, None, "shop", [("BCHB22", "3"), ("RBPN22", "3"), ("SVIS", "2")], [("CARD", "all")], ("pos:1", "BOU-000117")),
    ("order", 1, "DURMI", "shop", [("KCDN6", "1"), ("CBRU", "6"), ("SLIV21", "1")], [("CHEQUE", "100.00")], None),
)  # fmt: skip
