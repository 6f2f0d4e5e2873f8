"""Inside Airbnb files: where they come from (sources), what is in them (listings: layout,
types, named errors) and how they are cleaned (cleaning: named rules with counts), up to the
feature table a run trains on (tables). Training-side only: uses pandas."""
