# Gate display (gate-service scan API): what the passenger sees at the E-Gate.

gate-proceed = お進みください。
gate-go-to-counter = 税関検査台へお進みください。
gate-reason-other = このQRコードは受け付けられません。税関検査台へお進みください。
gate-place-passport-again = 旅券をもう一度読み取り機に置いてください。
