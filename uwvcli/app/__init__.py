"""The use cases, one function each (what `run`, `send`, `check`, `status`, … do), and the choices
between environments (which credentials, real Digipoort or the simulator). Imports anything but `cli/`."""
