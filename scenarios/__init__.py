"""Commissioners' what-ifs: demand forecasts, supply changes and their outcomes."""
