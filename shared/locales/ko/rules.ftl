# 판정 사유와 품목별 처리.

reason-answer-prohibited = 수입이 금지되거나 제한된 물품을 소지하고 있다고 답했습니다.
reason-answer-over-allowance = 면세 범위를 초과하는 물품을 소지하고 있다고 답했습니다.
reason-answer-commercial = 상업용 화물 또는 샘플을 소지하고 있다고 답했습니다.
reason-answer-for-others = 다른 사람에게서 부탁받은 물품을 소지하고 있다고 답했습니다.
reason-answer-means-of-payment = 100만 엔 상당액을 초과하는 현금 등 지급수단을 소지하고 있다고 답했습니다.
reason-answer-precious-metal = 1kg을 초과하는 귀금속을 소지하고 있다고 답했습니다.
reason-answer-unaccompanied = 별송품이 { $packages }개 있습니다.
reason-answer-over-allowance-inconsistent = 면세 범위 초과 물품에 "아니요"라고 답했지만 신고한 물품이 면세 범위를 초과합니다.
reason-allowance-alcohol-exceeded = 주류: { $declared_ml }ml 신고, 동반자 포함 면세 범위는 { $allowed_ml }ml입니다.
reason-allowance-tobacco-exceeded = 담배: 면세 수량의 { $declared_percent }% 신고, 동반자 포함 면세 범위는 { $allowed_percent }%입니다.
reason-allowance-perfume-exceeded = 향수: { $declared_ml }ml 신고, 동반자 포함 면세 범위는 { $allowed_ml }ml입니다.
reason-allowance-other-goods-exceeded = 기타 물품: 합계 ¥{ $counted_yen }, 동반자 포함 면세 범위는 ¥{ $allowance_yen }입니다.
reason-allowance-single-article-over-limit = 품목 { $item }: 1개 ¥{ $value_yen }(¥{ $limit_yen } 초과)인 물품은 전액 과세됩니다.
reason-allowance-age-restricted = 주류와 담배는 20세 이상 여행자만 면세됩니다.
reason-rules-incomplete-item = 품목 { $item }: 용량 또는 중량이 없어 세관 직원이 확인합니다.

treatment-within-allowance = 면세(면세 범위 이내)
treatment-per-kind-under-threshold = 면세(같은 품목 합계 1만 엔 이하)
treatment-customs-value-over-ceiling = 세관 직원이 세액을 산정합니다(과세가격 10만 엔 초과)
treatment-no-simplified-rate = 세관 직원이 세액을 산정합니다(간이세율 적용 제외)
treatment-unknown-currency = 세관 직원이 세액을 산정합니다(환율표에 없는 통화)
treatment-incomplete-item = 세관 직원이 세액을 산정합니다(용량 또는 중량 미기재)
treatment-dutiable = 과세
