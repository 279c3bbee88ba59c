"""What opens a transaction and drives several domains."""
