"""uwvcli: Dutch employers' sickness and pregnancy notifications to UWV, through Digipoort."""

__version__ = "0.1.0"
