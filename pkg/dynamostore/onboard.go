package dynamostore

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/flexfactor/credplane/pkg/apikey"
	"github.com/flexfactor/credplane/pkg/awserr"
)

var _ apikey.OnboardingStore = (*Store)(nil)

const (
	skOnboard         = "ONBOARD"
	attrClaimedSecret = "secret_key_id"
)

// OnboardingClaim reads the id of the secret key the merchant's last
// onboarding issued (strongly consistent); "" when it was never onboarded.
func (st *Store) OnboardingClaim(ctx context.Context, mid string) (string, error) {
	out, err := awserr.Call(ctx, st.Client.GetItem, &dynamodb.GetItemInput{
		TableName:                &st.Table,
		Key:                      itemKey(midPK(mid), skOnboard),
		ConsistentRead:           aws.Bool(true),
		ProjectionExpression:     aws.String("#s"),
		ExpressionAttributeNames: map[string]string{"#s": attrClaimedSecret},
	})
	if err != nil {
		return "", fmt.Errorf("read onboarding claim: %w", err)
	}
	return getS(out.Item, attrClaimedSecret), nil
}

// Onboard writes both keys and the merchant's claim (MID#<mid> / ONBOARD)
// in one transaction. The claim is put on the condition that it is still
// what was read (absent, or naming o.Seen), so of concurrent onboardings
// that read the same claim at most one commits.
func (st *Store) Onboard(ctx context.Context, o apikey.Onboarding) error {
	claim := map[string]types.AttributeValue{
		AttrPK:            s(midPK(o.Secret.Key.MID)),
		AttrSK:            s(skOnboard),
		attrClaimedSecret: s(o.Secret.Key.ID),
		"public_key_id":   s(o.Public.Key.ID),
		"onboarded_at":    ts(o.Secret.Key.CreatedAt),
	}
	put := &types.Put{
		TableName:                &st.Table,
		Item:                     claim,
		ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{"#pk": AttrPK},
	}
	if o.Seen != "" {
		put.ConditionExpression = aws.String("attribute_not_exists(#pk) OR #s = :seen")
		put.ExpressionAttributeNames["#s"] = attrClaimedSecret
		put.ExpressionAttributeValues = map[string]types.AttributeValue{":seen": s(o.Seen)}
	}
	const pub, sec = "public ", "secret "
	var t txn
	st.addKey(&t, pub, o.Public)
	st.addKey(&t, sec, o.Secret)
	t.add(itemOnboarding, types.TransactWriteItem{Put: put})
	why, err := st.write(ctx, &t)
	switch {
	case why.lost(itemOnboarding):
		// Another onboarding committed, or is committing, for this merchant.
		return apikey.ErrConflict
	case why.failed(pub+itemDigest, sec+itemDigest):
		return apikey.ErrDuplicateDigest
	case err != nil:
		return fmt.Errorf("onboard: %w", err)
	}
	return nil
}
