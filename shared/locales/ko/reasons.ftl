# 게이트 및 토큰 판정 사유.

reason-token-bad-signature = QR 코드의 서명이 유효하지 않습니다. 세관 직원에게 문의하십시오.
reason-token-unknown-kid = 이 게이트가 알지 못하는 발급자가 서명한 QR 코드입니다.
reason-token-revoked-kid = 더 이상 신뢰하지 않는 키로 서명된 QR 코드입니다.
reason-token-expired = QR 코드가 만료되었습니다. 다시 신고해 주십시오.
reason-token-not-yet-valid = QR 코드가 아직 유효하지 않습니다.
reason-token-malformed = 유효한 세관 신고 QR 코드가 아닙니다.
reason-token-replayed = 이미 사용된 QR 코드입니다.
reason-token-superseded = 이 QR 코드는 새 신고로 대체되었거나 취소되었습니다.
reason-gate-restore-unconfirmed = 이 게이트에서는 지금 QR 코드를 확인할 수 없습니다. 세관 검사대로 가 주십시오.
reason-passport-mismatch = 여권이 신고 내용과 일치하지 않습니다.
reason-passport-expired = 여권이 만료되었습니다.
reason-mrz-check-digit = 여권을 정확히 읽지 못했습니다(검증 숫자).
reason-mrz-malformed = 여권을 읽지 못했습니다.
reason-qr-unreadable = QR 코드를 읽지 못했습니다.
reason-declaration-items-to-declare = 신고할 물품이 있습니다.
reason-rules-profile-differs = 신고가 다른 기준으로 판정되어 다시 확인했습니다.
reason-rules-unknown-currency = 통화 { $currency }은(는) 환율표에 없습니다. 세관 직원이 가격을 확인합니다.
reason-selection-random = 무작위로 세관 검사 대상에 선정되었습니다.
reason-selection-watch-binding = 세관 검사 대상에 선정되었습니다.
reason-selection-watch-flight = 세관 검사 대상에 선정되었습니다.
reason-token-alg-mismatch = 이 QR 코드는 이 게이트에서 허용하지 않는 서명 방식을 사용합니다.
reason-token-key-expired = 이 QR 코드는 사용이 종료된 키로 서명되었습니다.
reason-token-issuer-mismatch = 이 QR 코드의 발급자가 서명한 키와 일치하지 않습니다.
reason-token-arrival-date = QR 코드의 도착일이 어제, 오늘 또는 내일이 아닙니다. 세관 검사대로 가십시오.
reason-alert-stolen-qr = 같은 QR 코드가 다른 사람의 여권과 함께 반복해서 제시되었습니다(QR 코드 도용 의심).
