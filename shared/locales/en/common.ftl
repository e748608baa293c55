# Shared terms: category and lane names. Keys: category-<code with _ as ->, lane-<lane>.

lane-green = Green lane
lane-red = Red lane

category-whisky = Whisky
category-brandy = Brandy
category-rum = Rum
category-gin = Gin
category-vodka = Vodka
category-liqueur = Liqueur
category-other-spirits = Other spirits
category-wine = Wine
category-beer = Beer
category-other-liquor = Other alcoholic beverages
category-cigarettes = Cigarettes
category-cigars = Cigars
category-heated-tobacco-sticks = Heated tobacco sticks
category-heated-tobacco-capsules = Heated tobacco capsules
category-other-tobacco = Other tobacco
category-perfume = Perfume
category-eau-de-toilette = Eau de toilette / cologne
category-clothing = Clothing
category-bags-accessories = Bags and accessories
category-watches-jewellery = Watches and jewellery
category-cosmetics = Cosmetics
category-electronics = Electronics
category-food = Food
category-toys-games = Toys and games
category-other-goods = Other goods
