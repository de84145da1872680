"""The back office ("Gestion commerciale"): articles, customers and suppliers, documents, reference tables."""
