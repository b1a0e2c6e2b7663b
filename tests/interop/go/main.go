// A client of the runner written against the vendor's official Go SDK (service/im, v1.0.253),
// unmodified. It runs one scenario and prints what each step got as JSON lines, for
// tests/interop/test_go_sdk.py to judge.
//
// Usage: interop HOST ACCESS_KEY SECRET APP_ID
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/volcengine/volc-sdk-golang/service/im"
)

type step struct {
	Step    string `json:"step"`
	Exist   bool   `json:"exist"`
	ShortID int64  `json:"short_id"`
	Error   string `json:"error,omitempty"`
}

func client(host, ak, sk string) *im.Im {
	c := im.NewInstance()
	c.SetScheme("http")
	c.SetHost(host)
	c.SetAccessKey(ak)
	c.SetSecretKey(sk)
	c.SetTimeout(30 * time.Second)
	return c
}

func create(c *im.Im, name string, body *im.CreateConversationBody) {
	res, err := c.CreateConversation(context.Background(), body)
	out := step{Step: name}
	if err != nil {
		out.Error = err.Error()
	} else {
		out.Exist = res.Result.Exist
		out.ShortID = res.Result.ConversationShortID
	}
	line, _ := json.Marshal(out)
	fmt.Println(string(line))
}

func main() {
	if len(os.Args) != 5 {
		fmt.Fprintln(os.Stderr, "usage: interop HOST ACCESS_KEY SECRET APP_ID")
		os.Exit(2)
	}
	host, ak, sk := os.Args[1], os.Args[2], os.Args[3]
	app64, err := strconv.ParseInt(os.Args[4], 10, 32)
	if err != nil {
		panic(err)
	}
	app := int32(app64)
	owner := time.Now().UnixNano()%1_000_000_000_000 + 1
	other := owner + 1
	idem := fmt.Sprintf("go-sdk-%d", owner)
	c := client(host, ak, sk)

	create(c, "group", &im.CreateConversationBody{
		AppID: app, OwnerUserID: owner,
		ConversationCoreInfo: im.CreateConversationBodyConversationCoreInfo{ConversationType: 2},
	})
	single := im.CreateConversationBodyConversationCoreInfo{ConversationType: 1}
	create(c, "single", &im.CreateConversationBody{
		AppID: app, OwnerUserID: owner, OtherUserID: &other, ConversationCoreInfo: single,
	})
	create(c, "single-reversed", &im.CreateConversationBody{
		AppID: app, OwnerUserID: other, OtherUserID: &owner, ConversationCoreInfo: single,
	})
	for _, name := range []string{"idempotent-first", "idempotent-again"} {
		create(c, name, &im.CreateConversationBody{
			AppID: app, OwnerUserID: owner, IdempotentID: &idem,
			ConversationCoreInfo: im.CreateConversationBodyConversationCoreInfo{ConversationType: 2},
		})
	}
	create(c, "invalid-type", &im.CreateConversationBody{
		AppID: app, OwnerUserID: owner,
		ConversationCoreInfo: im.CreateConversationBodyConversationCoreInfo{ConversationType: 7},
	})
	create(client(host, ak, "not-the-secret"), "wrong-secret", &im.CreateConversationBody{
		AppID: app, OwnerUserID: owner,
		ConversationCoreInfo: im.CreateConversationBodyConversationCoreInfo{ConversationType: 2},
	})
}
