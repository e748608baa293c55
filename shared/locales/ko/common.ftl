# 공통 용어: 품목 및 검사대 이름.

lane-green = 녹색 검사대
lane-red = 적색 검사대

category-whisky = 위스키
category-brandy = 브랜디
category-rum = 럼
category-gin = 진
category-vodka = 보드카
category-liqueur = 리큐어
category-other-spirits = 기타 증류주
category-wine = 와인
category-beer = 맥주
category-other-liquor = 기타 주류
category-cigarettes = 궐련
category-cigars = 시가
category-heated-tobacco-sticks = 가열식 담배(스틱)
category-heated-tobacco-capsules = 가열식 담배(캡슐)
category-other-tobacco = 기타 담배
category-perfume = 향수
category-eau-de-toilette = 오드뚜왈렛·코롱
category-clothing = 의류
category-bags-accessories = 가방·액세서리
category-watches-jewellery = 시계·귀금속
category-cosmetics = 화장품
category-electronics = 전자제품
category-food = 식품
category-toys-games = 장난감·게임
category-other-goods = 기타 물품
