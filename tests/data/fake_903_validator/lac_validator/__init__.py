"""A stand-in for csc-validator-be-903's package (tests only; see ../README.md)."""
