__all__ = ['ttypes', 'constants', 'PredictionService']
