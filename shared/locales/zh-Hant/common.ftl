# 通用術語：物品類別與通道名稱。

lane-green = 綠色通道
lane-red = 紅色通道

category-whisky = 威士忌
category-brandy = 白蘭地
category-rum = 蘭姆酒
category-gin = 琴酒
category-vodka = 伏特加
category-liqueur = 利口酒
category-other-spirits = 其他蒸餾酒
category-wine = 葡萄酒
category-beer = 啤酒
category-other-liquor = 其他酒類
category-cigarettes = 紙菸
category-cigars = 雪茄
category-heated-tobacco-sticks = 加熱菸（菸彈棒）
category-heated-tobacco-capsules = 加熱菸（膠囊）
category-other-tobacco = 其他菸草
category-perfume = 香水
category-eau-de-toilette = 淡香水／古龍水
category-clothing = 服裝
category-bags-accessories = 包袋及配飾
category-watches-jewellery = 手錶及珠寶
category-cosmetics = 化妝品
category-electronics = 電子產品
category-food = 食品
category-toys-games = 玩具及遊戲
category-other-goods = 其他物品
