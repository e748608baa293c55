# Gate display (gate-service scan API): what the passenger sees at the E-Gate.

gate-proceed = Please proceed.
gate-go-to-counter = Please go to the customs counter.
gate-reason-other = The QR code could not be accepted. Please go to the customs counter.
gate-place-passport-again = Place your passport on the reader again.
