# Phone app shell (mobile-api: /my, the web app manifest, the messages of app.js).
# Keys: app-<what>. The declaration wizard's own messages are in its file.

app-name = 휴대품 신고
app-short-name = E-Gate
app-description = 착륙 전에 휴대폰으로 일본 세관에 신고하고, 전자 신고 게이트용 QR 코드를 인터넷 연결 없이도 보관하세요.
app-skip = 본문으로 건너뛰기
app-language = 언어
app-my-title = 내 신고
app-my-intro = 신고의 QR 코드는 이 휴대폰에 보관되며 인터넷 연결 없이도 열 수 있습니다. 전자 신고 게이트에서 여권과 함께 보여 주세요.
app-my-new = 새로 신고하기
app-my-noscript = 이 휴대폰에 보관된 QR 코드를 표시하려면 JavaScript가 필요합니다.
app-my-device-note = 이 신고들은 계정이 아닌 이 휴대폰에만 저장됩니다. 이 휴대폰을 사용하는 사람은 누구나 보고, 변경하고, 삭제할 수 있습니다. QR 코드가 만료되면 신고는 이 휴대폰에서 사라집니다.
app-my-loading = 이 휴대폰에 보관된 신고를 찾고 있습니다…
app-my-empty = 이 휴대폰에 보관된 신고가 없습니다.
app-my-arrival = { $date } 도착
app-my-expires = QR 코드 유효 기한: { $date }
app-my-show = 전자 신고 게이트에서 여권과 함께 이 QR 코드를 보여 주세요. 이름이나 여권 번호는 들어 있지 않습니다.
app-my-qr-label = { $date } 도착 신고의 QR 코드
app-my-change = 변경
app-my-delete = 삭제
app-my-delete-confirm = 이 신고를 삭제할까요? QR 코드는 즉시 사용할 수 없게 됩니다.
app-my-delete-yes = 예, 삭제합니다
app-my-delete-no = 아니요, 보관합니다
app-my-deleted = 신고를 삭제하고 이 휴대폰에서도 지웠습니다.
app-my-offline = 오프라인 상태입니다. QR 코드는 그대로 사용할 수 있으며, 신고를 변경하거나 삭제하려면 인터넷 연결이 필요합니다.
app-my-failed = 처리하지 못했습니다. 잠시 후 다시 시도해 주세요.
app-my-kept = 이 QR 코드는 이 휴대폰에 보관되었습니다. 인터넷 연결 없이도 "내 신고"에서 열 수 있습니다.
app-my-link = 내 신고
