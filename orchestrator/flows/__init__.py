"""What opens transactions and drives several domains: the tasks and endpoints call these."""
