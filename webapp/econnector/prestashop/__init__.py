"""The e-connecteur's webservice mode: a PrestaShop shop reached through its webservice API."""
