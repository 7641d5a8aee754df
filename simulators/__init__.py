"""Stand-ins for everything a counter or kiosk talks to: the software card, the vpcd
bridge, the test PKI and the symbol core. Never imports terminal/."""
