# Gate display (gate-service scan API): what the passenger sees at the E-Gate.

gate-proceed = 통과하십시오.
gate-go-to-counter = 세관 검사대로 가십시오.
gate-reason-other = 이 QR 코드는 사용할 수 없습니다. 세관 검사대로 가십시오.
gate-place-passport-again = 여권을 판독기에 다시 올려 주십시오.
