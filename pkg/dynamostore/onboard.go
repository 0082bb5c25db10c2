package dynamostore

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
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
	e := build(expression.NewBuilder().WithProjection(project(attrClaimedSecret)))
	out, err := awserr.Call(ctx, st.Client.GetItem, &dynamodb.GetItemInput{
		TableName:                &st.Table,
		Key:                      key{midPK(mid), skOnboard}.av(),
		ConsistentRead:           aws.Bool(true),
		ProjectionExpression:     e.Projection(),
		ExpressionAttributeNames: e.Names(),
	})
	if err != nil {
		return "", fmt.Errorf("read onboarding claim: %w", err)
	}
	var c onboardingClaim
	if err := attributevalue.UnmarshalMap(out.Item, &c); err != nil {
		return "", fmt.Errorf("read onboarding claim: %w", err)
	}
	return c.SecretKeyID, nil
}

// Onboard writes both keys and the merchant's claim (MID#<mid> / ONBOARD)
// in one transaction. The claim is put on the condition that it is still
// what was read (absent, or naming o.Seen), so of concurrent onboardings
// that read the same claim at most one commits.
func (st *Store) Onboard(ctx context.Context, o apikey.Onboarding) error {
	for _, nk := range []apikey.NewKey{o.Public, o.Secret} {
		if err := checkSealed(nk.Sealed); err != nil {
			return err
		}
	}
	claim := onboardingClaim{
		key:         key{midPK(o.Secret.Key.MID), skOnboard},
		SecretKeyID: o.Secret.Key.ID,
		PublicKeyID: o.Public.Key.ID,
		OnboardedAt: stamp(o.Secret.Key.CreatedAt),
	}
	unchanged := absent()
	if o.Seen != "" {
		unchanged = unchanged.Or(name(attrClaimedSecret).Equal(value(o.Seen)))
	}
	const pub, sec = "public ", "secret "
	var t txn
	st.addKey(&t, pub, o.Public)
	st.addKey(&t, sec, o.Secret)
	t.add(itemOnboarding, st.put(claim, unchanged))
	st.addEvent(&t, o.Event)
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
