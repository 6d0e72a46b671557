"""leadscore: predictive lead scoring that is honest, fast and reproducible."""

__version__ = "0.1.0"
