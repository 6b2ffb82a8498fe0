"""Real postcodes shared by the geography tests."""

# A fixed spread of real postcodes (every shape of outward code, every English region).
SAMPLE = (
    "CM1 1AA",
    "RM17 5RW",
    "E1 6AN",
    "SW1A 1AA",
    "EC1A 1BB",
    "W1A 0AX",
    "M1 1AE",
    "B33 8TH",
    "CR2 6XH",
    "DN55 1PT",
    "TR19 7AA",
    "TD15 1AA",
    "NR33 0AA",
    "CA15 8AA",
    "PL1 1AA",
    "NE66 1AA",
    "ME1 1AA",
    "CT1 1AA",
    "LA1 1AA",
)
