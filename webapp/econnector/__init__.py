"""The e-connecteur (ECN-2 to ECN-10): CSV exchange with a web shop or any other program."""
