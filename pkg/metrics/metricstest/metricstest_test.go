package metricstest

import "testing"

// TestParseHoldsLinesToTheSpecification: each way a line can break the EMF
// specification is refused, so a test that finds its metric also shows
// that CloudWatch would extract it.
func TestParseHoldsLinesToTheSpecification(t *testing.T) {
	const ok = `{"_aws":{"Timestamp":1764244800000,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["Stage"]],"Metrics":[{"Name":"M","Unit":"Count"}]}]},"Stage":"sandbox","M":1}`
	if _, err := Parse([]byte(ok)); err != nil {
		t.Fatalf("a valid line is refused: %v", err)
	}
	for name, line := range map[string]string{
		"not JSON":             `{"_aws":`,
		"no timestamp":         `{"_aws":{"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["Stage"]],"Metrics":[{"Name":"M"}]}]},"Stage":"s","M":1}`,
		"timestamp in seconds": `{"_aws":{"Timestamp":"1764244800","CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["Stage"]],"Metrics":[{"Name":"M"}]}]},"Stage":"s","M":1}`,
		"no directives":        `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[]},"M":1}`,
		"unknown _aws member":  `{"_aws":{"Timestamp":1,"Extra":1,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["Stage"]],"Metrics":[{"Name":"M"}]}]},"Stage":"s","M":1}`,
		"empty namespace":      `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"","Dimensions":[["Stage"]],"Metrics":[{"Name":"M"}]}]},"Stage":"s","M":1}`,
		"dimensions not sets":  `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":["Stage"],"Metrics":[{"Name":"M"}]}]},"Stage":"s","M":1}`,
		"dimension missing":    `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["Stage"]],"Metrics":[{"Name":"M"}]}]},"M":1}`,
		"dimension not string": `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["Stage"]],"Metrics":[{"Name":"M"}]}]},"Stage":7,"M":1}`,
		"dimension empty":      `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["Stage"]],"Metrics":[{"Name":"M"}]}]},"Stage":"","M":1}`,
		"metric missing":       `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["Stage"]],"Metrics":[{"Name":"M"}]}]},"Stage":"s"}`,
		"metric not a number":  `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["Stage"]],"Metrics":[{"Name":"M"}]}]},"Stage":"s","M":"1"}`,
		"unknown unit":         `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["Stage"]],"Metrics":[{"Name":"M","Unit":"ms"}]}]},"Stage":"s","M":1}`,
		"no metrics":           `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["Stage"]],"Metrics":[]}]},"Stage":"s"}`,
		"two lines":            "{\"_aws\":{\"Timestamp\":1,\n\"CloudWatchMetrics\":[{\"Namespace\":\"N\",\"Dimensions\":[[\"Stage\"]],\"Metrics\":[{\"Name\":\"M\"}]}]},\"Stage\":\"s\",\"M\":1}",
	} {
		if _, err := Parse([]byte(line)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
