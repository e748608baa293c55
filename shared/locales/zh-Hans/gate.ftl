# Gate display (gate-service scan API): what the passenger sees at the E-Gate.

gate-proceed = 请通行。
gate-go-to-counter = 请前往海关检查台。
gate-reason-other = 无法接受此二维码。请前往海关检查台。
gate-place-passport-again = 请将护照重新放在读取器上。
