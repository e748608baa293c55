# Gate display (gate-service scan API): what the passenger sees at the E-Gate.

gate-proceed = 請通行。
gate-go-to-counter = 請前往海關檢查台。
gate-reason-other = 無法接受此 QR 碼。請前往海關檢查台。
gate-place-passport-again = 請將護照重新放在讀取器上。
