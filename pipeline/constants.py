"""Physical constants [SI]. Named and cited, never inline literals."""

import math

#: Vacuum permeability [H/m]. CODATA 2018: 1.25663706212e-6 H/m; the pre-2019 exact value
#: 4 pi 1e-7 differs by 5e-10 relative, far below any tolerance here.
MU_0 = 4e-7 * math.pi

#: Nominal copper resistivity at 20 degC [ohm m] (IEC 60028 annealed copper standard,
#: 1/58 ohm mm^2/m = 1.7241e-8 ohm m).
RHO_CU_20 = 1.7241e-8

#: Temperature coefficient of copper resistivity at 20 degC [1/K] (IEC 60028).
ALPHA_CU_20 = 0.00393

#: Absolute zero offset [K].
ZERO_CELSIUS = 273.15
