"""Owns the names of the Covtype data: its columns, its classes, and the feature and label columns a
trial fits on. Pure: no Spark, so the plots and the report can name classes without it."""

NUMERIC = [
    "Elevation", "Aspect", "Slope",
    "Horizontal_Distance_To_Hydrology", "Vertical_Distance_To_Hydrology",
    "Horizontal_Distance_To_Roadways", "Hillshade_9am", "Hillshade_Noon", "Hillshade_3pm",
    "Horizontal_Distance_To_Fire_Points",
]  # fmt: skip
WILDERNESS = [f"Wilderness_Area_{i}" for i in range(4)]
SOIL = [f"Soil_Type_{i}" for i in range(40)]
FEATURES = NUMERIC + WILDERNESS + SOIL
LABEL = "Cover_Type"
COLUMNS = FEATURES + [LABEL]
CLASS_NAMES = {
    1: "Spruce/Fir", 2: "Lodgepole Pine", 3: "Ponderosa Pine", 4: "Cottonwood/Willow",
    5: "Aspen", 6: "Douglas-fir", 7: "Krummholz",
}  # fmt: skip
# What a trial fits on: the 54 features assembled into one vector, and the label as a double.
FEATURES_COL = "features"
LABEL_COL = "label"
