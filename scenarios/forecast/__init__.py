"""Demand forecasts for commissioners: statement (deterministic) and stock-and-flow (stochastic).

* :mod:`scenarios.forecast.statement`: a total shared out by share rules, as a sufficiency
  strategy states it (``forecast_statement``).
* :mod:`scenarios.forecast.rates`: entry, exit and move rates estimated from a council's
  SSDA903 episodes, pulled towards national rates (``estimate_rates``).
* :mod:`scenarios.forecast.stock_flow`: child-by-child simulation, vectorised over runs
  (``simulate``), and its expected-value twin (``expected_path``).
* :mod:`scenarios.forecast.backtest`: fit up to a date, forecast the rest, compare.
* :mod:`scenarios.forecast.config` and :mod:`scenarios.forecast.report`: TOML in; tables,
  JSON, CSV and HTML out.
"""
