-- matthan metadata schema, version 3: the district (quận/huyện) a camera
-- stands in, for filtering the camera wall and the map.
ALTER TABLE cameras ADD COLUMN district TEXT NOT NULL DEFAULT '';
