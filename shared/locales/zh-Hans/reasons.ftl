# 闸机与令牌的判定理由。

reason-token-bad-signature = 二维码签名无效，请联系海关人员。
reason-token-unknown-kid = 该二维码由本闸机不认可的签发方签名。
reason-token-revoked-kid = 该二维码使用了已不再受信任的密钥签名。
reason-token-expired = 二维码已过期，请重新申报。
reason-token-not-yet-valid = 二维码尚未生效。
reason-token-malformed = 该二维码不是有效的海关申报。
reason-token-replayed = 该二维码已被使用。
reason-token-superseded = 该二维码已被新的申报取代或已撤销。
reason-gate-restore-unconfirmed = 本通道目前无法确认您的二维码。请前往海关柜台。
reason-passport-mismatch = 护照与申报内容不符。
reason-passport-expired = 护照已过期。
reason-mrz-check-digit = 无法正确读取护照（校验位错误）。
reason-mrz-malformed = 无法读取护照。
reason-qr-unreadable = 无法读取二维码。
reason-declaration-items-to-declare = 您有需要申报的物品。
reason-rules-profile-differs = 该申报曾按其他规则判定，已重新核查。
reason-rules-unknown-currency = 货币{ $currency }不在汇率表中，将由海关人员核定价值。
reason-selection-random = 您被随机选中接受海关检查。
reason-selection-watch-binding = 您被选中接受海关检查。
reason-selection-watch-flight = 您被选中接受海关检查。
reason-token-alg-mismatch = 此二维码使用的签名方式不被本闸机接受。
reason-token-key-expired = 此二维码是在密钥停用后用该密钥签名的。
reason-token-issuer-mismatch = 此二维码的签发方与签名密钥不符。
reason-token-arrival-date = 二维码上的到达日期不在昨天、今天或明天之内。请前往海关检查台。
reason-alert-stolen-qr = 同一二维码多次与他人的护照一起出示（疑似二维码被盗用）。
