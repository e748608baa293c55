# 閘門與權杖的判定理由。

reason-token-bad-signature = QR碼簽章無效，請洽海關人員。
reason-token-unknown-kid = 此QR碼由本閘門不認可的簽發者簽署。
reason-token-revoked-kid = 此QR碼使用已不再受信任的金鑰簽署。
reason-token-expired = QR碼已過期，請重新申報。
reason-token-not-yet-valid = QR碼尚未生效。
reason-token-malformed = 此QR碼不是有效的海關申報。
reason-token-replayed = 此QR碼已被使用。
reason-token-superseded = 此QR碼已被新的申報取代或已撤銷。
reason-gate-restore-unconfirmed = 本通道目前無法確認您的QR碼。請前往海關櫃檯。
reason-passport-mismatch = 護照與申報內容不符。
reason-passport-expired = 護照已過期。
reason-mrz-check-digit = 無法正確讀取護照（檢查碼錯誤）。
reason-mrz-malformed = 無法讀取護照。
reason-qr-unreadable = 無法讀取QR碼。
reason-declaration-items-to-declare = 您有需要申報的物品。
reason-rules-profile-differs = 此申報曾依其他規則判定，已重新檢查。
reason-rules-unknown-currency = 貨幣{ $currency }不在匯率表中，將由海關人員核定價值。
reason-selection-random = 您被隨機選中接受海關檢查。
reason-selection-watch-binding = 您被選中接受海關檢查。
reason-selection-watch-flight = 您被選中接受海關檢查。
reason-token-alg-mismatch = 此 QR 碼使用的簽章方式不被本閘門接受。
reason-token-key-expired = 此 QR 碼是在金鑰停用後以該金鑰簽署的。
reason-token-issuer-mismatch = 此 QR 碼的簽發者與簽署金鑰不符。
reason-token-arrival-date = QR碼上的抵達日期不在昨天、今天或明天之內。請前往海關檢查台。
reason-alert-stolen-qr = 同一QR碼多次與他人的護照一起出示（疑似QR碼遭盜用）。
