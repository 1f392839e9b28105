"""One generator module per family of operations; each exposes `cases() -> list[Case]`."""
