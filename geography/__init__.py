"""Places and distances: postcodes, authorities, schools, straight-line miles, maps.

The lowest layer of placematch. It knows nothing about children.
"""
